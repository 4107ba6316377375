"""`cmotion`: camera motion of each span as a label from a fixed vocabulary, plus the numbers behind it.

Labels: `static`, `pan_left`, `pan_right`, `tilt_up`, `tilt_down`, `zoom_in`, `zoom_out`, combinations joined
by '+' in that order (e.g. `pan_left+zoom_in`), and `unknown`. Convention (the camera's motion, not the
content's): `pan_left` = the camera turns/moves left, so content moves right in the frame; `tilt_up` = the
camera tilts up, so content moves down; `zoom_in` = content grows.

Per pair of consecutive samples (`rate` per second, gray at `short_side`): corners (Shi-Tomasi) are tracked
with pyramidal Lucas-Kanade, and a similarity transform (translation, rotation, uniform scale) is fitted with
RANSAC (`cv2.estimateAffinePartial2D`). Its motion at the frame centre, divided by the frame size and the
time gap, gives the camera's velocity in frame widths (x) and heights (y) per second; the log of its scale
per second gives the zoom rate. Per span, the median over pairs is compared with `min_pan` / `min_zoom`.
The defaults (2 samples/s at a 128 px short side: every other frame `motion` samples at its 4/s, same size
and format) let both ops share one frame conversion in the decode pass.

`unknown` means the camera motion cannot be told: the span has no pair inside it (shorter than 1/rate s),
most pairs have too few trackable corners (flat or black picture), the similarity model explains too few
of the tracks (non-rigid or chaotic motion: water, fire, crowds), or the camera shakes hard with no
consistent direction (median speed well above the thresholds while the signed medians are below them).

Columns: `cmotion` (label), `cmotion_dx` (camera to the right, frame widths/s; negative = left),
`cmotion_dy` (camera downward, frame heights/s; negative = up), `cmotion_zoom` (ln scale/s; positive = in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register
from vidcurate.ops.motion import DEFAULT_SHORT_SIDE, PairTracker, upscale_gray

DEFAULT_RATE = 2.0
"""Samples per second; a divisor of `motion`'s default rate, so its samples are a subset of motion's."""
GRID = 8
"""Corners are spread over a GRID x GRID grid so that a textured foreground cannot outvote the background."""
LK_WINDOW = (15, 15)
LK_LEVELS = 3
MIN_TRACKS = 12
"""Pairs with fewer tracked corners than this say nothing about the camera."""
SHAKE_FACTOR = 3.0
"""Median speed this many times the threshold with no consistent direction counts as shake (-> unknown)."""


@dataclass
class Motion2D:
    """The camera motion of one pair, already per second (None fields when the pair was not measurable)."""

    dx: float | None
    dy: float | None
    zoom: float | None
    inliers: float


@register
class CameraMotion(FrameOp):
    """Camera motion label per span (see the module docstring for the vocabulary and the method)."""

    name = "cmotion"
    resources = Resources(cpus=1.0, memory_mb=256)
    produces = (
        Column("cmotion", "str", "", "camera motion label: static, pan_left, ... joined by '+', or unknown"),
        Column("cmotion_dx", "float", "width/s", "median camera velocity in x (+ = camera moves right)"),
        Column("cmotion_dy", "float", "height/s", "median camera velocity in y (+ = camera moves down)"),
        Column("cmotion_zoom", "float", "ln(scale)/s", "median zoom rate (+ = zoom in)"),
    )

    rate: float = DEFAULT_RATE
    short_side: int = DEFAULT_SHORT_SIDE
    min_pan: float = 0.03
    min_zoom: float = 0.03
    min_inliers: float = 0.5
    max_corners: int = 200

    def validate(self) -> None:
        if self.rate <= 0:
            raise self.bad("rate", "must be > 0 samples per second")
        if not 32 <= self.short_side <= 2160:
            raise self.bad("short_side", "analysis short side must be between 32 and 2160 pixels")
        if self.min_pan <= 0:
            raise self.bad("min_pan", "must be > 0 (frame widths or heights per second)")
        if self.min_zoom <= 0:
            raise self.bad("min_zoom", "must be > 0 (ln scale per second)")
        if not 0 <= self.min_inliers <= 1:
            raise self.bad("min_inliers", "must be a share between 0 and 1")
        if self.max_corners < MIN_TRACKS:
            raise self.bad("max_corners", f"must be at least {MIN_TRACKS}")

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt="gray", short_side=self.short_side, rate=self.rate)

    def start(self, row: Row, spans: list[Span] | None) -> dict[str, Any]:
        return {"pairs": PairTracker(), "prev": None}

    def feed(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        gray = upscale_gray(frame, self.short_side)
        cur = (gray, spread_corners(gray, self.max_corners))
        prev = state["prev"]
        state["pairs"].add(index, t, gray, lambda a, b: self.measure(prev, cur))
        state["prev"] = cur

    def measure(self, prev: tuple[Any, np.ndarray], cur: tuple[Any, np.ndarray]) -> tuple[np.ndarray | None, float]:
        """Similarity transform prev -> cur (2x3, content motion) and the share of tracks it explains.

        Each side is (gray frame, its corners); corners are found once per sample. Tracks that do not come back
        to their start when tracked backwards (forward-backward check) are dropped before the fit.
        """
        (prev_img, corners), (cur_img, _) = prev, cur
        if len(corners) < MIN_TRACKS:
            return None, 0.0
        lk = {"winSize": LK_WINDOW, "maxLevel": LK_LEVELS}
        moved, status, _ = cv2.calcOpticalFlowPyrLK(prev_img, cur_img, corners, None, **lk)
        back, status_back, _ = cv2.calcOpticalFlowPyrLK(cur_img, prev_img, moved, None, **lk)
        good = (status.ravel() == 1) & (status_back.ravel() == 1)
        good &= np.linalg.norm((back - corners).reshape(-1, 2), axis=1) < 1.0
        if int(good.sum()) < MIN_TRACKS:
            return None, 0.0
        src, dst = corners[good], moved[good]
        model, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        if model is None or inliers is None:
            return None, 0.0
        return model, float(inliers.sum()) / len(src)

    def finish(self, state: dict[str, Any], row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        tracker: PairTracker = state["pairs"]
        size = tracker.prev.shape[:2] if tracker.prev is not None else None
        return [self.label([self._per_second(p.value, p.dt, size) for p in tracker.inside(span)]) for span in spans]

    @staticmethod
    def _per_second(value: tuple[np.ndarray | None, float], dt: float, size: tuple[int, int] | None) -> Motion2D:
        model, inliers = value
        if model is None or size is None:
            return Motion2D(None, None, None, inliers)
        height, width = size
        centre = np.array([width / 2, height / 2])
        shift = model[:, :2] @ centre + model[:, 2] - centre
        scale = math.hypot(model[0, 0], model[1, 0])
        return Motion2D(dx=-shift[0] / width / dt, dy=-shift[1] / height / dt, zoom=math.log(scale) / dt,
                        inliers=inliers)

    def label(self, pairs: list[Motion2D]) -> dict[str, Any]:
        """The span's columns from its per-pair motions."""
        unknown = {"cmotion": "unknown", "cmotion_dx": None, "cmotion_dy": None, "cmotion_zoom": None}
        valid = [p for p in pairs if p.dx is not None]
        if not valid or len(valid) < len(pairs) / 2:
            return unknown
        dx = float(np.median([p.dx for p in valid]))
        dy = float(np.median([p.dy for p in valid]))
        zoom = float(np.median([p.zoom for p in valid]))
        cols = {"cmotion_dx": round(dx, 4), "cmotion_dy": round(dy, 4), "cmotion_zoom": round(zoom, 4)}
        if float(np.median([p.inliers for p in valid])) < self.min_inliers:
            return {**cols, "cmotion": "unknown"}
        parts = []
        if abs(dx) >= self.min_pan:
            parts.append("pan_right" if dx > 0 else "pan_left")
        if abs(dy) >= self.min_pan:
            parts.append("tilt_down" if dy > 0 else "tilt_up")
        if abs(zoom) >= self.min_zoom:
            parts.append("zoom_in" if zoom > 0 else "zoom_out")
        if not parts:
            speed = float(np.median([math.hypot(p.dx, p.dy) for p in valid]))
            shake = float(np.median([abs(p.zoom) for p in valid]))
            if speed >= SHAKE_FACTOR * self.min_pan or shake >= SHAKE_FACTOR * self.min_zoom:
                return {**cols, "cmotion": "unknown"}
        return {**cols, "cmotion": "+".join(parts) or "static"}


def spread_corners(gray: np.ndarray, count: int) -> np.ndarray:
    """Up to `count` Shi-Tomasi corners, at most count / GRID**2 (the strongest) per grid cell; (N, 1, 2)."""
    found = cv2.goodFeaturesToTrack(gray, maxCorners=count * 3, qualityLevel=0.001, minDistance=5, blockSize=7)
    if found is None:
        return np.empty((0, 1, 2), np.float32)
    height, width = gray.shape[:2]
    points = found.reshape(-1, 2)
    cells = (np.minimum(points[:, 1] * GRID // height, GRID - 1) * GRID
             + np.minimum(points[:, 0] * GRID // width, GRID - 1)).astype(int)
    order = np.argsort(cells, kind="stable")
    first = np.searchsorted(cells[order], np.arange(GRID**2))
    rank = np.empty(len(cells), int)
    rank[order] = np.arange(len(cells)) - first[cells[order]]
    return found[rank < max(1, count // GRID**2)]
