"""Run a group of frame ops over one row with a single decode pass.

The spans come from a scene op in the group, else from the row's `scene_frames`, else the row's own frame
span (a scene row not yet cut), else the whole file. Per-scene scores go to `scene_scores` (parallel to
`scene_frames`) when the row carries scenes, and straight onto the row otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidcurate.exec.apply import add_error, guard
from vidcurate.manifest import Row
from vidcurate.media.decode import decode_pass
from vidcurate.ops.base import FrameOp, Span, SpanOp


def own_span(row: Row) -> Span | None:
    """The frame span of a scene row that still points at its source (not yet cut)."""
    if "start_frame" in row and row.get("path") == row.get("source_path"):
        return int(row["start_frame"]), int(row["end_frame"])
    return None


def scan(row: Row, ops: list[FrameOp]) -> Row:
    """Feed every op from one decode of row['path'] and merge their columns into the row."""
    row = dict(row)
    states: dict[int, Any] = {}
    for i, op in enumerate(ops):
        state, err = guard(op.name, op.start, row)
        if err:
            add_error(row, err)
        else:
            states[i] = state
    span = own_span(row)
    specs = [op.frame_spec() for op in ops]

    def on_frame(index: int, t: float, arrays: list[np.ndarray | None]) -> None:
        for i, arr in enumerate(arrays):
            if arr is not None and i in states:
                _, err = guard(ops[i].name, ops[i].feed, states[i], index, t, arr)
                if err:
                    add_error(row, err)
                    del states[i]

    kwargs = {"start_frame": span[0], "end_frame": span[1]} if span else {}
    info, err = guard("decode", decode_pass, row["path"], specs, on_frame, **kwargs)
    if err or info is None:
        return add_error(row, err or "decode: no result")
    spans = _spans(row, ops, states, info)
    scenes = "scene_frames" in row and span is None
    if scenes:
        scores = [dict(s) for s in row.get("scene_scores") or [{} for _ in spans]]
    for i, op in enumerate(ops):
        if i not in states or isinstance(op, SpanOp):
            continue
        cols, err = guard(op.name, op.finish, states[i], row, spans, info.times)
        if err:
            add_error(row, err)
        elif scenes:
            for score, col in zip(scores, cols):
                score.update(col)
        else:
            row.update(cols[0])
    if scenes:
        row["scene_scores"] = scores
    return row


def _spans(row: Row, ops: list[FrameOp], states: dict[int, Any], info: Any) -> list[Span]:
    for i, op in enumerate(ops):
        if isinstance(op, SpanOp) and i in states:
            cols, err = guard(op.name, op.spans, states[i], row, info.num_frames, info.times)
            if err:
                add_error(row, err)
            else:
                row.update(cols)
                row.pop("scene_scores", None)
    if "scene_frames" in row and own_span(row) is None:
        return [tuple(s) for s in row["scene_frames"]]
    return [own_span(row) or (0, info.num_frames)]
