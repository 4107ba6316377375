"""Fades (to/from black) and cross-dissolves, which frame-difference cut detectors miss.

A frame inside a dissolve is a linear blend of the shot before and the shot after: F_j = (1-w) A + w B
with w rising steadily from 0 to 1 (a fade is the same with A or B black). Every frame is reduced to a
48x27 gray thumbnail. For each centre frame k and half-width h, A = F[k-h], B = F[k+h]; the blend weight
w_j of each frame between them is the projection of F_j - A on B - A, and the residual of that fit says
how well "blend of A and B" explains the frame. A window is a transition when A and B differ (and are
different pictures, or one is black: a brightness change within a shot is not a transition), every frame
in it is well explained by a blend, and w rises gradually (a hard cut makes w jump 0 -> 1). The exact
range comes from a line fitted to the w ramp. Camera motion and moving objects leave large residuals.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from vidcurate.detect import Boundaries, Detector

THUMB = (48, 27)
MIN_DIFF = 15.0
"""RMS gray difference between A and B below which nothing changed enough to be a transition."""
MAX_RESIDUAL = 0.3
"""Largest blend residual (relative to |B - A|) a frame inside a transition may have."""
MAX_CORRELATION = 0.7
"""A and B more correlated than this are the same picture (a lighting change, not a transition)."""
BLACK = 20.0
"""Mean gray at or below which (with low contrast) a frame counts as black."""
MAX_STEP = 0.45
"""Largest jump of w between consecutive frames; a hard cut jumps by ~1."""
MAX_SECONDS = 2.0
"""Longest transition searched for."""


def half_widths(fps: float) -> list[int]:
    """Window half-widths tried, up to half of MAX_SECONDS at this frame rate."""
    top = max(2, round(MAX_SECONDS * (fps or 25.0) / 2))
    out = sorted({2, 3, 4, 6, 8, 12, 16, 24, 32, 48, top})
    return [h for h in out if h <= top]


class GradualTransitions(Detector):
    """Collects gray thumbnails, finds blend ramps at the end of the pass."""

    fmt = "bgr24"

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.thumbs: list[np.ndarray] = []

    def feed(self, index: int, frame: np.ndarray) -> None:
        small = cv2.resize(frame, THUMB, interpolation=cv2.INTER_AREA)  # area averaging commutes with the mean
        gray = small.mean(axis=2, dtype=np.float32) if small.ndim == 3 else small
        self.thumbs.append(gray.astype(np.uint8))

    def finish(self, num_frames: int) -> Boundaries:
        if len(self.thumbs) < 5:
            return Boundaries()
        frames = np.stack(self.thumbs).reshape(len(self.thumbs), -1)
        found = []
        for h in half_widths(self.fps):
            for k in _centres(frames, h):
                span = _check(frames, k, h)
                if span is not None:
                    found.append(span)
        return Boundaries([], _union(found))


CHUNK = 2048
"""Centres screened per vectorised step (bounds memory on long videos)."""


def _centres(frames: np.ndarray, h: int) -> list[int]:
    """Centre frames k whose own frame is a half-way blend of F[k-h] and F[k+h] (cheap vectorised screen)."""
    out: list[int] = []
    for lo in range(h, len(frames) - h, CHUNK):
        hi = min(lo + CHUNK, len(frames) - h)
        block = frames[lo - h : hi + h].astype(np.float32)
        out += [lo + i for i in _screen(block, h)]
    return out


def _screen(frames: np.ndarray, h: int) -> list[int]:
    """Offsets (from frame h) of the centres in `frames` that pass the half-way blend test."""
    a, m, b = frames[: -2 * h], frames[h:-h], frames[2 * h :]
    d = b - a
    d2 = np.einsum("ij,ij->i", d, d)
    n = frames.shape[1]
    ok = d2 > (MIN_DIFF**2) * n
    w = np.einsum("ij,ij->i", m - a, d) / np.maximum(d2, 1e-6)
    resid = m - a - w[:, None] * d
    r = np.sqrt(np.einsum("ij,ij->i", resid, resid) / np.maximum(d2, 1e-6))
    ok &= (w > 0.2) & (w < 0.8) & (r < MAX_RESIDUAL)
    return [int(i) for i in np.flatnonzero(ok)]


def _is_black(x: np.ndarray) -> bool:
    return float(x.mean()) <= BLACK and float(x.std()) <= BLACK


def _check(frames: np.ndarray, k: int, h: int) -> tuple[int, int] | None:
    """The transition range if the window k±h is a blend ramp, else None."""
    window = frames[k - h : k + h + 1].astype(np.float32)
    a, b = window[0], window[-1]
    if not (_is_black(a) or _is_black(b)):
        ca, cb = a - a.mean(), b - b.mean()
        corr = float(ca @ cb) / math.sqrt(max(float(ca @ ca) * float(cb @ cb), 1e-6))
        if corr > MAX_CORRELATION:
            return None
    d = b - a
    d2 = float(d @ d)
    inner = window[1:-1]
    w = (inner - a) @ d / d2
    resid = inner - a - w[:, None] * d
    r = np.sqrt(np.einsum("ij,ij->i", resid, resid) / d2)
    if float(r.max()) > MAX_RESIDUAL:
        return None
    ramp = np.concatenate([[0.0], w, [1.0]])
    if float(np.abs(np.diff(ramp)).max()) > MAX_STEP or float(np.diff(ramp).min()) < -0.15:
        return None
    idx = np.arange(k - h, k + h + 1, dtype=np.float64)
    mid = (ramp > 0.1) & (ramp < 0.9)
    if mid.sum() < 2:
        return None
    slope, icpt = np.polyfit(idx[mid], ramp[mid], 1)
    if slope <= 0:
        return None
    j0, j1 = -icpt / slope, (1 - icpt) / slope
    first, last = round(j0) + 1, round(j1) - 1
    first, last = max(first, k - h + 1), min(last, k + h - 1)
    return (first, last) if last >= first + 1 else None


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching ranges."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]
