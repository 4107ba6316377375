"""Run a group of frame ops over one row with a single decode pass.

The spans come from a scene op in the group, else from the row's `scene_frames`, else the row's own frame
span (a scene row not yet cut), else the whole file. Per-scene scores go to `scene_scores` (parallel to
`scene_frames`) when the row carries scenes, and straight onto the row otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from vidcurate.exec.apply import add_error, guard
from vidcurate.manifest import Row
from vidcurate.media.decode import decode_pass
from vidcurate.ops.base import FrameOp, Span, SpanOp

SCENES_PENDING = "_scenes_pending"
"""Set on the row a frame op's `start` sees when a shot detector runs in the same pass: the spans are found
while decoding, so whatever the row says (`num_frames`, an earlier `scene_frames`) does not plan them."""


def own_span(row: Row) -> Span | None:
    """The frame span of a scene row that still points at its source (not yet cut)."""
    if "start_frame" in row and row.get("path") == row.get("source_path"):
        return int(row["start_frame"]), int(row["end_frame"])
    return None


@contextlib.contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's thread count set to `count` for the block, then restored.

    The consumers run while the decoder's threads hold the cores; OpenCV's own worker threads then only add
    hand-offs and spinning (the six fused scorers used ~5% less CPU single-threaded, identical values). After decoding,
    the model ops' `finish` gets OpenCV's threads back.
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def scan(row: Row, ops: list[FrameOp]) -> Row:
    """Feed every op from one decode of row['path'] and merge their columns into the row."""
    row = dict(row)
    states: dict[int, Any] = {}
    finding = any(isinstance(op, SpanOp) for op in ops)
    for i, op in enumerate(ops):
        seen = {**row, SCENES_PENDING: True} if finding and not isinstance(op, SpanOp) else row
        state, err = guard(op.name, op.start, seen)
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
    with opencv_threads(1):
        info, err = guard("decode", decode_pass, row["path"], specs, on_frame, **kwargs)
    if err or info is None:
        return add_error(row, err or "decode: no result")
    spans = _spans(row, ops, states, info)
    scenes = "scene_frames" in row and span is None
    if scenes:
        scores = [dict(s) for s in row.get("scene_scores") or [{} for _ in spans]]
    finishing = [i for i, op in enumerate(ops) if i in states and not isinstance(op, SpanOp)]
    for cols, err in _finish_all([ops[i] for i in finishing], [states[i] for i in finishing], row, spans, info.times):
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


def _finish_all(ops: list[FrameOp], states: list[Any], row: Row, spans: list[Span],
                times: list[float]) -> list[tuple[Any, str | None]]:
    """Each op's `finish`, on parallel threads: with spans found in the same pass, the sampled model ops
    (ocr, nsfw, face) run all their model calls here, after decoding has ended and freed a core; OpenCV and
    onnxruntime release the GIL, so the ops' tails overlap instead of queueing on one core. One thread per op
    (not per core): the tails differ in length, and the OS balances whole tails better than a pool of two."""
    if len(ops) <= 1:
        return [guard(op.name, op.finish, state, row, spans, times) for op, state in zip(ops, states)]
    with ThreadPoolExecutor(len(ops), thread_name_prefix="vidcurate-finish") as pool:
        futures = [pool.submit(guard, op.name, op.finish, state, row, spans, times) for op, state in zip(ops, states)]
        return [f.result() for f in futures]


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
