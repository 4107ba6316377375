"""The closing summary of a run: rows in and out, drops by reason, errors by op."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.table import Table

from vidcurate.manifest import Row


@dataclass
class Summary:
    """Counts that the console table and the HTML report both show."""

    rows_in: int
    rows_out: int
    kept: int
    dropped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def error_op(error: str) -> str:
    """The op named at the front of an error text."""
    return error.split(":", 1)[0].strip() or "unknown"


def summarize(rows_in: int, rows: list[Row]) -> Summary:
    """Count kept rows, drop reasons and errors per op."""
    summary = Summary(rows_in=rows_in, rows_out=len(rows), kept=0)
    for row in rows:
        if row.get("error"):
            for part in str(row["error"]).split("; "):
                summary.errors[error_op(part)] += 1
        elif row.get("drop_reason"):
            summary.dropped[str(row["drop_reason"])] += 1
        else:
            summary.kept += 1
    return summary


def table(summary: Summary, title: str = "summary") -> Table:
    """A rich table of the summary."""
    out = Table(title=title, show_header=True, header_style="bold")
    out.add_column("what")
    out.add_column("rows", justify="right")
    out.add_row("rows in", str(summary.rows_in))
    out.add_row("rows out", str(summary.rows_out))
    out.add_row("[green]kept", f"[green]{summary.kept}")
    for reason, n in summary.dropped.most_common():
        out.add_row(f"[yellow]dropped: {reason}", f"[yellow]{n}")
    for op, n in summary.errors.most_common():
        out.add_row(f"[red]errors in {op}", f"[red]{n}")
    return out
