"""`select`: keep or drop rows by an expression over columns; scores are data, dropping is this decision."""

from __future__ import annotations

from typing import Any

from vidcurate.expr import Expr
from vidcurate.manifest import Row
from vidcurate.ops.base import Op, Resources, build, register


@register
class Select(Op):
    """Mark rows failing `where` with `drop_reason = "select: <first failing clause>"`.

    Dropped rows stay in the run's manifest (lineage, report); step commands and exports leave them out.
    Before a run, `check_columns` refuses a column that neither the input nor any op can produce.
    """

    name = "select"
    resources = Resources(cpus=0.1, memory_mb=64)
    light = True

    where: str = "True"

    def validate(self) -> None:
        try:
            self._expr = Expr(self.where)
        except ValueError as e:
            raise self.bad("where", str(e)) from e

    def check_columns(self, available: set[str]) -> None:
        """Fail before any row is processed when `where` names a column that cannot exist (a typo)."""
        import difflib

        for name in sorted(self._expr.columns() - available):
            close = difflib.get_close_matches(name, sorted(available), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.bad("where", f"unknown column '{name}'{hint}")

    def check_rows(self, rows: list[Row]) -> None:
        """Fail before anything is written when `where` cannot be evaluated on any of the rows for the same
        reason (a string compared with a number, a division by zero): a mistake, not a per-row drop."""
        reason = self._expr.type_error([r for r in rows if not r.get("error")])
        if reason is not None:
            raise self.bad("where", f"cannot be evaluated on any row: {reason}")

    def process(self, row: Row) -> Row:
        failed = self._expr.first_failure(row)
        if failed is not None:
            row["drop_reason"] = f"select: {failed}"
        return row


def check_selects(specs: list[tuple[str, dict[str, Any]]], available: set[str], rows: list[Row] | None = None) -> None:
    """Before anything runs: every `select` of the specs may name only `available` columns and, given the input
    rows, must be evaluable on them (`Select.check_columns`, `Select.check_rows`)."""
    for name, params in specs:
        op = build(name, params)
        if isinstance(op, Select):
            op.check_columns(available)
            if rows:
                op.check_rows(rows)
