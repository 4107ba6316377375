"""`motion`: how much the picture moves, as the mean dense optical-flow magnitude of each span -> `flow`.

Unit of `flow` (methods `dis` and `farneback`): **pixels per frame at 30 fps, measured at a 256-pixel short
side**. Frames are sampled `rate` times per second of source time (from timestamps, so VFR is right); the
flow between two consecutive samples is divided by their time gap and by 30, and scaled to a 256 px short
side whatever the analysis size, so the score depends neither on the sampling rate, nor on the source's
frame rate, nor on its resolution. (px/s = flow * 30; with `relative: true` the score is instead a fraction
of the analysis frame's diagonal per frame at 30 fps.)

- `dis` (default): OpenCV's DIS optical flow, `ultrafast` preset (well under 1 ms per 228x128 pair). The
  defaults (4 samples/s, 128 px short side) cost about 0.05x of a 720p decode in the shared pass.
- `farneback`: OpenCV Farneback with Data-Juicer's parameters (pyr_scale 0.5, 3 levels, window 15,
  3 iterations, poly_n 5, poly_sigma 1.2); about 10x slower, smoother on large textureless areas.
- `datajuicer`: Data-Juicer's `video_motion_score_filter` score, reproduced so that its thresholds carry
  over: frames at source size (or `size`/`max_size`/`divisible`), INTER_AREA resize, BGR->gray, Farneback
  as above, the mean magnitude in px per *sampled pair* (not time-normalised), averaged over pairs. Its
  frame pattern is kept too: frames 0, 1, then every `round(fps / min(rate, fps))`-th frame (default
  rate 2), counted from the span start. Every decoded frame is converted for this method (it needs exact
  frame indices), so it is slower than `dis`.

Per span the score is the mean over the sample pairs whose two frames both lie in the span (a pair never
straddles a cut). A span with no such pair (shorter than one sampling period, 1/rate s) gets `flow = null`
rather than a value measured across a cut; Data-Juicer itself would give -1 there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register

REF_SHORT_SIDE = 256
"""Flow is reported in pixels at this short side, whatever size it was measured at."""
REF_FPS = 30.0
"""Flow is reported per frame at this frame rate (px/s divided by 30)."""
DEFAULT_RATE = 4.0
"""Samples per second for `dis`/`farneback` (and `cmotion`): cheap, and enough for a per-clip average."""
DEFAULT_SHORT_SIDE = 128
"""Analysis short side for `dis`/`farneback` (and `cmotion`), so both ops share one conversion per sample."""
DJ_DEFAULT_RATE = 2.0
FARNEBACK = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2,
             "flags": 0}
"""Farneback parameters: OpenCV's customary values, and Data-Juicer's defaults."""


@dataclass
class Pair:
    """A measurement between two consecutive samples: their decode indices, time gap, and the value."""

    i0: int
    i1: int
    dt: float
    value: Any


class PairTracker:
    """Keeps the previous sample of a pass and turns each new sample into a `Pair` via `measure`."""

    def __init__(self) -> None:
        self.prev: np.ndarray | None = None
        self.prev_index = -1
        self.prev_t = 0.0
        self.pairs: list[Pair] = []

    def add(self, index: int, t: float, frame: np.ndarray, measure: Any) -> None:
        """Measure (prev, frame) if there is a previous sample of the same size, then keep frame."""
        if self.prev is not None and self.prev.shape == frame.shape and t > self.prev_t:
            self.pairs.append(Pair(self.prev_index, index, t - self.prev_t, measure(self.prev, frame)))
        self.prev, self.prev_index, self.prev_t = frame, index, t

    def inside(self, span: Span) -> list[Pair]:
        """The pairs whose two frames both lie in [start, end)."""
        start, end = span
        return [p for p in self.pairs if start <= p.i0 and p.i1 < end]


def upscale_gray(frame: np.ndarray, short_side: int) -> np.ndarray:
    """Contiguous analysis frame; sources smaller than `short_side` are upscaled (the decode pass only shrinks)."""
    height, width = frame.shape[:2]
    if min(height, width) >= short_side - 1:
        return np.ascontiguousarray(frame)
    scale = short_side / min(height, width)
    return cv2.resize(frame, (max(2, round(width * scale)), max(2, round(height * scale))),
                      interpolation=cv2.INTER_LINEAR)


def mean_magnitude(flow: np.ndarray) -> float:
    """Mean length of the flow vectors."""
    return float(cv2.mean(cv2.magnitude(*cv2.split(flow)))[0])


def dj_resized_size(height: int, width: int, size: list[int] | None, max_size: int | None,
                    divisible: int) -> tuple[int, int]:
    """Data-Juicer's `calculate_resized_dimensions` (1.6): a (height, width) tuple as it computes it.

    Data-Juicer hands this tuple straight to `cv2.resize`, which reads it as (width, height): with `size` or
    `max_size` set its frames come out transposed. The flow magnitude is computed on those frames, so we keep
    the same tuple and the same call to match its scores.
    """
    short, long = sorted((width, height))
    if size:
        new_short, new_long = (size[0], int(size[0] * long / short)) if len(size) == 1 else (min(size), max(size))
    else:
        new_short, new_long = short, long
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(new_short * (max_size / new_long)), max_size
    dims = (new_short, new_long) if width >= height else (new_long, new_short)
    return int(dims[0] / divisible) * divisible, int(dims[1] / divisible) * divisible


@register
class Motion(FrameOp):
    """Mean optical-flow magnitude per span (see the module docstring for the unit and the methods)."""

    name = "motion"
    resources = Resources(cpus=1.0, memory_mb=256)
    produces = (
        Column("flow", "float", "px/frame", "mean optical-flow magnitude, px per frame at 30 fps at a 256px "
               "short side (px/s = 30 * flow)"),
    )

    method: Literal["dis", "farneback", "datajuicer"] = "dis"
    rate: float | None = None
    short_side: int = DEFAULT_SHORT_SIDE
    size: int | list[int] | None = None
    max_size: int | None = None
    divisible: int = 1
    relative: bool = False

    def validate(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise self.bad("rate", "must be > 0 samples per second")
        if not 32 <= self.short_side <= 2160:
            raise self.bad("short_side", "analysis short side must be between 32 and 2160 pixels")
        dj = self.method == "datajuicer"
        if not dj and (self.size is not None or self.max_size is not None or self.divisible != 1):
            key = "size" if self.size is not None else "max_size" if self.max_size is not None else "divisible"
            raise self.bad(key, "only used by method 'datajuicer' (use short_side for dis/farneback)")
        sizes = [self.size] if isinstance(self.size, int) else list(self.size or [])
        if self.size is not None and (not 1 <= len(sizes) <= 2 or any(s <= 0 for s in sizes)):
            raise self.bad("size", "must be a positive int or a list of one or two positive ints")
        if self.max_size is not None and self.max_size <= 0:
            raise self.bad("max_size", "must be a positive int")
        if self.divisible <= 0:
            raise self.bad("divisible", "must be a positive int")

    @property
    def sample_rate(self) -> float:
        """Samples per second (Data-Juicer's `sampling_fps` for method 'datajuicer')."""
        if self.rate is not None:
            return float(self.rate)
        return DJ_DEFAULT_RATE if self.method == "datajuicer" else DEFAULT_RATE

    def frame_spec(self) -> FrameSpec:
        if self.method == "datajuicer":
            return FrameSpec(fmt="bgr24")
        return FrameSpec(fmt="gray", short_side=self.short_side, rate=self.sample_rate)

    def start(self, row: Row, spans: list[Span] | None) -> dict[str, Any]:
        state: dict[str, Any] = {"pairs": PairTracker()}
        if self.method == "dis":
            state["dis"] = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        if self.method == "datajuicer":
            state["grid"] = _DjGrid(row, spans, self.sample_rate)
        return state

    def feed(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        if self.method == "datajuicer":
            self._feed_dj(state, index, t, frame)
            return
        gray = upscale_gray(frame, self.short_side)
        state["pairs"].add(index, t, gray, lambda prev, cur: self._measure(prev, cur, state.get("dis")))

    def _measure(self, prev: np.ndarray, cur: np.ndarray, dis: Any) -> float:
        """Mean flow magnitude of one pair, in px at the reference short side (not yet time-normalised)."""
        if dis is not None:
            flow = dis.calc(prev, cur, None)
        else:
            flow = cv2.calcOpticalFlowFarneback(prev, cur, None, **FARNEBACK)
        height, width = cur.shape[:2]
        if self.relative:
            return mean_magnitude(flow) / float(np.hypot(height, width))
        return mean_magnitude(flow) * REF_SHORT_SIDE / min(height, width)

    def _feed_dj(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        grid: _DjGrid = state["grid"]
        grid.observe(index, t)
        if not grid.wants(index):
            return
        height, width = frame.shape[:2]
        sizes = [self.size] if isinstance(self.size, int) else self.size
        new_size = dj_resized_size(height, width, sizes, self.max_size, self.divisible)
        if new_size != (height, width):
            # Data-Juicer passes (height, width) where cv2.resize expects (width, height); kept for parity.
            frame = cv2.resize(frame, new_size, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        tracker: PairTracker = state["pairs"]
        if tracker.prev is not None and grid.segment(tracker.prev_index) != grid.segment(index):
            tracker.prev = None
        tracker.add(index, t, gray, self._measure_dj)
        if index - grid.starts[grid.segment(index)] == 1 and grid.steps[grid.segment(index)] == 1:
            # with step 1 Data-Juicer seeks back to frame 1 after reading it and pairs it with itself
            tracker.pairs.append(Pair(index, index, 0.0, 0.0))

    def _measure_dj(self, prev: np.ndarray, cur: np.ndarray) -> float:
        flow = cv2.calcOpticalFlowFarneback(prev, cur, None, **FARNEBACK)
        mag, _ = cv2.cartToPolar(flow[..., 0], flow[..., 1])
        score = float(np.mean(mag))
        return score / float(np.hypot(*cur.shape[:2])) if self.relative else score

    def finish(self, state: dict[str, Any], row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        tracker: PairTracker = state["pairs"]
        out: list[dict[str, Any]] = []
        for span in spans:
            pairs = tracker.inside(span)
            if not pairs:
                out.append({"flow": None})
            elif self.method == "datajuicer":
                out.append({"flow": round(float(np.mean([p.value for p in pairs])), 6)})
            else:
                out.append({"flow": round(float(np.mean([p.value / (p.dt * REF_FPS) for p in pairs])), 6)})
        return out


class _DjGrid:
    """Data-Juicer's frame pattern per segment: frames 0 and 1, then every `step`-th frame from the start.

    Segments are the spans known before decoding (`rows.known_spans`, handed over by the scan), else the
    whole file: spans found by a scene op in the same pass are scored on the whole file's pattern.
    """

    def __init__(self, row: Row, spans: list[Span] | None, sampling_fps: float) -> None:
        self.sampling_fps = sampling_fps
        self.bounds = sorted(spans) if spans else [(0, 1 << 40)]
        self.starts = [s for s, _ in self.bounds]
        self.total = int(row.get("num_frames") or 0) or 1 << 40
        self.steps: list[int] = []
        self.first_t: float | None = None
        fps = float(row.get("fps") or 0)
        if fps > 0:
            self.set_fps(fps)

    def set_fps(self, fps: float) -> None:
        """Fix the frame step of every segment from the frame rate (Data-Juicer reads it from the header)."""
        step = round(fps / min(self.sampling_fps, fps))
        self.steps = [max(min(step, min(e, self.total) - s - 1), 1) for s, e in self.bounds]

    def observe(self, index: int, t: float) -> None:
        """Without a probed fps, take it from the first two frames' timestamps."""
        if self.steps:
            return
        if self.first_t is not None and t > self.first_t:
            self.set_fps(1.0 / (t - self.first_t))
        else:
            self.first_t = t

    def segment(self, index: int) -> int:
        """Index of the segment holding frame `index`, or -1 when it lies in none."""
        k = int(np.searchsorted(self.starts, index, side="right")) - 1
        return k if k >= 0 and index < self.bounds[k][1] else -1

    def wants(self, index: int) -> bool:
        """Whether Data-Juicer would read this frame."""
        k = self.segment(index)
        if k < 0:
            return False
        j = index - self.starts[k]
        return j <= 1 or bool(self.steps) and j % self.steps[k] == 0
