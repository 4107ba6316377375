"""The only place op exceptions are caught: a failure becomes `error` on the row and the row flows on.

`--strict` flips this: the first exception is re-raised so a developer sees the traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vidcurate.manifest import Row
from vidcurate.ops.base import Op

T = TypeVar("T")
STRICT = False


def set_strict(strict: bool) -> None:
    """Re-raise op exceptions instead of recording them (for debugging)."""
    global STRICT
    STRICT = strict


def error_text(name: str, exc: BaseException) -> str:
    """The `error` column's format: '<op>: <ExceptionType>: <message>'."""
    message = " ".join(str(exc).split()) or repr(exc)
    return f"{name}: {type(exc).__name__}: {message[:500]}"


def add_error(row: Row, text: str) -> Row:
    """Append an error to a row (a row can collect several when frame ops share a decode)."""
    row["error"] = f"{row['error']}; {text}" if row.get("error") else text
    return row


def is_live(row: Row) -> bool:
    """Rows with an error or a drop reason pass through later ops untouched."""
    return not row.get("error") and not row.get("drop_reason")


def guard(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str | None]:
    """Call fn; on an exception return (None, error text) unless strict."""
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:
        if STRICT:
            raise
        return None, error_text(name, exc)


def apply(op: Op, rows: list[Row]) -> list[Row]:
    """Run one op over rows; live rows are processed (batched when the op supports it), others kept."""
    live = [row for row in rows if is_live(row)]
    batch = getattr(op, "process_batch", None)
    results: dict[int, list[Row]] = {}
    if batch is not None and live:
        outs, err = guard(op.name, batch, [dict(r) for r in live])
        if err is None and outs is not None:
            results = {id(r): _as_list(o) for r, o in zip(live, outs)}
    out: list[Row] = []
    for row in rows:
        if not is_live(row):
            out.append(row)
        elif id(row) in results:
            out.extend(results[id(row)])
        else:
            res, err = guard(op.name, op.process, dict(row))
            out.extend(_as_list(res) if err is None else [add_error(dict(row), err)])
    return out


def _as_list(result: Row | list[Row] | None) -> list[Row]:
    if result is None:
        return []
    return result if isinstance(result, list) else [result]
