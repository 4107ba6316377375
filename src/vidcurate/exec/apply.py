"""The only place op exceptions are caught: a failure becomes `error` on the row (or on the one item of a
model batch that failed) and the row flows on.

`--strict` flips this: the first exception is re-raised so a developer sees the traceback.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any, TypeVar

from vidcurate.errors import ConfigError
from vidcurate.ops.base import ModelOp, Op
from vidcurate.rows import Row, add_error, error_text, is_live, span_targets

T = TypeVar("T")
STRICT = False
MODEL_CALLS: collections.Counter[str] = collections.Counter()
"""Totals of this process: model `batches` run and the `items` in them (retries of a failed batch included)."""

__all__ = ["add_error", "apply", "apply_model", "apply_row", "error_text", "guard", "is_live", "set_strict",
           "setup_error", "setup_ops"]


def set_strict(strict: bool) -> None:
    """Re-raise op exceptions instead of recording them (for debugging)."""
    global STRICT
    STRICT = strict


def guard(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str | None]:
    """Call fn; on an exception return (None, error text) unless strict."""
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:
        if STRICT:
            raise
        return None, error_text(name, exc)


def setup_ops(ops: list[Op]) -> None:
    """Run every op's `setup()`; a failure is a configuration error naming the op (never a row error)."""
    for op in ops:
        try:
            op.setup()
        except Exception as exc:
            if STRICT:
                raise
            raise ConfigError(f"op '{op.name}': setup failed: {error_text(op.name, exc)}") from exc


def setup_error(stages: list[Any]) -> str | None:
    """Set up stages (anything with `setup()`); the configuration error's message, or None when all loaded."""
    try:
        for stage in stages:
            stage.setup()
    except ConfigError as exc:
        return str(exc)
    return None


def apply_row(op: Op, rows: list[Row]) -> list[Row]:
    """Run a per-row op: live rows are processed (expanded first where the op fans out), others kept."""
    out: list[Row] = []
    for row in rows:
        if not is_live(row):
            out.append(row)
            continue
        parts, err = guard(op.name, op.expand, dict(row))
        if err is not None:
            out.append(add_error(dict(row), err))
            continue
        for part in parts if parts is not None else [row]:
            if not is_live(part):
                out.append(part)
                continue
            res, err = guard(op.name, op.process, dict(part))
            out.extend(_as_list(res) if err is None else [add_error(dict(part), err)])
    return out


def apply_model(op: ModelOp, rows: list[Row]) -> list[Row]:
    """Run a model op's stage over rows: items of all live rows in batches of at most `batch_size`, each
    output written back to its item's row (or scene); an item whose batch fails is retried in halves until
    it fails alone, so its error marks only that item; transport columns are removed from every row."""
    rows = [dict(row) for row in rows]
    items: list[tuple[Row, int | None, Any]] = []
    for row in rows:
        if not is_live(row):
            continue
        found, err = guard(op.name, op.items, row)
        if err is not None:
            add_error(row, err)
            continue
        found = found or []
        if any(key is not None for key, _ in found):
            span_targets(row)
        items += [(row, key, payload) for key, payload in found]
    for start in range(0, len(items), op.max_batch):
        _run_batch(op, items[start:start + op.max_batch])
    for row in rows:
        _drop_transport(op, row)
    return rows


def _run_batch(op: ModelOp, batch: list[tuple[Row, int | None, Any]]) -> None:
    outs, err = guard(op.name, _checked_batch, op, [payload for _, _, payload in batch])
    if err is None and outs is not None:
        for (row, key, _), cols in zip(batch, outs):
            _write(row, key, cols)
        return
    if len(batch) > 1:
        half = len(batch) // 2
        _run_batch(op, batch[:half])
        _run_batch(op, batch[half:])
        return
    row, key, _ = batch[0]
    _write(row, key, {"error": err})


def _checked_batch(op: ModelOp, payloads: list[Any]) -> list[dict[str, Any]]:
    MODEL_CALLS["batches"] += 1
    MODEL_CALLS["items"] += len(payloads)
    outs = op.process_batch(payloads)
    if not isinstance(outs, list) or len(outs) != len(payloads):
        got = len(outs) if isinstance(outs, list) else type(outs).__name__
        raise RuntimeError(f"process_batch returned {got} outputs for {len(payloads)} items")
    if not all(isinstance(o, dict) for o in outs):
        raise RuntimeError("process_batch must return one dict of columns per item")
    return outs


def _write(row: Row, key: int | None, cols: dict[str, Any]) -> None:
    """An item's output onto its row (key None) or onto scene `key`'s scores (made ready by `span_targets` when
    the items were gathered); an error stays with its item."""
    if key is None:
        if "error" in cols:
            add_error(row, cols["error"])
        else:
            row.update(cols)
        return
    target = row["scene_scores"][key]
    if "error" in cols:
        add_error(target, cols["error"])
    else:
        target.update(cols)


def _drop_transport(op: ModelOp, row: Row) -> None:
    for col in op.consumes:
        row.pop(col, None)
        for scores in row.get("scene_scores") or []:
            if isinstance(scores, dict):
                scores.pop(col, None)


def apply(op: Op, rows: list[Row]) -> list[Row]:
    """Run one op over rows in this process, whatever its kind (a frame op gets its own decode pass, a model
    op its batches); for scripts and tests. Executors run planned stages instead."""
    from vidcurate.exec.plan import plan, run_rows

    return run_rows(plan([op]), rows)


def _as_list(result: Row | list[Row] | None) -> list[Row]:
    if result is None:
        return []
    return result if isinstance(result, list) else [result]
