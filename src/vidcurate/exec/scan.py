"""Run a group of frame ops over one row with a single decode pass.

The spans come from a scene op in the group, else from the row (`rows.known_spans`: its own span, its
`scene_frames`, the whole file). Per-scene columns go to `scene_scores` (parallel to `scene_frames`) when
the row carries scenes, and straight onto the row otherwise. Frame model ops take part through a
`FrameCollector`: the pass collects their frames per span, their model stage scores them afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from vidcurate.exec.apply import guard
from vidcurate.media.decode import FrameSpec, decode_pass
from vidcurate.ops.base import FrameModelOp, FrameOp, Span, SpanOp
from vidcurate.rows import Row, add_error, final_spans, known_spans, own_span, span_targets
from vidcurate.sampling import centred, pack_frames

MAX_COLLECTED = 512
"""Frames a collector keeps per source before thinning to every other one (lossless crops, ~50-100 KB each)."""


class FrameCollector(FrameOp):
    """The scan's part of a frame model op: keep its prepared frames, then pick `frames` per span, evenly
    spread over the span's samples (bin centres), into the op's transport column."""

    def __init__(self, op: FrameModelOp) -> None:
        self.op = op
        self.name = op.name

    def frame_spec(self) -> FrameSpec:
        return self.op.frame_spec()

    def start(self, row: Row, spans: list[Span] | None) -> dict[str, Any]:
        self.op.check_row(row)
        return {"kept": [], "stride": 1, "seen": 0}

    def feed(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        state["seen"] += 1
        if (state["seen"] - 1) % state["stride"]:
            return
        state["kept"].append((index, self.op.prepare(frame)))
        if len(state["kept"]) >= MAX_COLLECTED:
            state["kept"] = state["kept"][::2]
            state["stride"] *= 2

    def finish(self, state: dict[str, Any], row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        out = []
        for start, end in spans:
            inside = [frame for index, frame in state["kept"] if start <= index < end]
            chosen = [inside[i] for i in centred(len(inside), self.op.frames_per_span)]
            out.append({self.op.frames_column: pack_frames(chosen)})
        return out


@contextlib.contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's thread count set to `count` for the block, then restored.

    The consumers run while the decoder's threads hold the cores; OpenCV's own worker threads then only add
    hand-offs and spinning (the six fused scorers used ~5% less CPU single-threaded, identical values). After
    decoding, the model ops' `finish` gets OpenCV's threads back.
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
    planned = None if finding else known_spans(row)
    for i, op in enumerate(ops):
        state, err = guard(op.name, op.start, row, None if isinstance(op, SpanOp) else planned)
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
    _find_spans(row, ops, states, info)
    spans = final_spans(row, info.num_frames)
    targets = span_targets(row)
    finishing = [i for i, op in enumerate(ops) if i in states and not isinstance(op, SpanOp)]
    for cols, err in _finish_all([ops[i] for i in finishing], [states[i] for i in finishing], row, spans, info.times):
        if err:
            add_error(row, err)
        elif targets is not None:
            for target, col in zip(targets, cols):
                target.update(col)
        else:
            row.update(cols[0])
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


def _find_spans(row: Row, ops: list[FrameOp], states: dict[int, Any], info: Any) -> None:
    """Let the group's shot detector write the scene list onto the row (earlier per-scene scores go)."""
    for i, op in enumerate(ops):
        if isinstance(op, SpanOp) and i in states:
            cols, err = guard(op.name, op.spans, states[i], row, info.num_frames, info.times)
            if err:
                add_error(row, err)
            else:
                row.update(cols)
                row.pop("scene_scores", None)
