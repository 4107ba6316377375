"""Shot-boundary detectors fed frame by frame from the shared decode pass (they never open files).

A detector states the frames it wants (`fmt`, and `short_side` or an exact `size`), takes every decoded
frame in order through `feed`, and returns `Boundaries` from `finish`: hard cuts (index of the first frame
of the new shot) and gradual transitions (inclusive frame ranges that blend two shots or a shot and black).
`make("content+gradual", ...)` builds the detectors of a combo; `post.py` turns boundaries into scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

DETECTORS = ("content", "adaptive", "transnetv2", "gradual")
"""Single detectors; combos join them with '+', e.g. 'content+gradual'."""

CUT_DETECTORS = ("content", "adaptive", "transnetv2")


@dataclass
class Boundaries:
    """What a detector found in one source."""

    cuts: list[int] = field(default_factory=list)
    transitions: list[tuple[int, int]] = field(default_factory=list)


class Detector:
    """Base class: override `feed` and `finish`."""

    fmt: Literal["gray", "rgb24", "bgr24"] = "bgr24"
    short_side: int | None = 144
    size: tuple[int, int] | None = None

    def feed(self, index: int, frame: np.ndarray) -> None:
        raise NotImplementedError

    def finish(self, num_frames: int) -> Boundaries:
        raise NotImplementedError


def parse(name: str) -> list[str]:
    """'content+gradual' -> ['content', 'gradual']; raises ValueError on unknown or clashing parts."""
    parts = [p.strip() for p in name.split("+") if p.strip()]
    if not parts:
        raise ValueError("empty detector name")
    for part in parts:
        if part not in DETECTORS:
            raise ValueError(f"unknown detector {part!r} (known: {', '.join(DETECTORS)}, joined with '+')")
    if len(set(parts)) != len(parts):
        raise ValueError(f"detector listed twice in {name!r}")
    if sum(p in CUT_DETECTORS for p in parts) > 1:
        raise ValueError(f"combine at most one of {', '.join(CUT_DETECTORS)} (with 'gradual'), got {name!r}")
    return parts


def make(name: str, fps: float, threshold: float | None = None, device: str = "cpu") -> list[Detector]:
    """Fresh detectors for one source; `threshold` applies to the cut detector, `fps` scales windows."""
    out: list[Detector] = []
    for part in parse(name):
        if part == "content":
            from vidcurate.detect.content import ContentCuts

            out.append(ContentCuts(fps, threshold))
        elif part == "adaptive":
            from vidcurate.detect.adaptive import AdaptiveCuts

            out.append(AdaptiveCuts(fps, threshold))
        elif part == "transnetv2":
            from vidcurate.detect.transnetv2 import TransNetCuts

            out.append(TransNetCuts(threshold, device))
        else:
            from vidcurate.detect.gradual import GradualTransitions

            out.append(GradualTransitions(fps))
    exact = [d for d in out if d.size is not None]
    for d in out:
        if exact and d is not exact[0]:
            d.fmt, d.short_side, d.size = exact[0].fmt, None, exact[0].size
    return out


def merge(found: list[Boundaries]) -> Boundaries:
    """Union of several detectors' boundaries; cuts inside or touching a transition are absorbed by it."""
    spans = sorted({tuple(t) for b in found for t in b.transitions})
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    cuts = sorted({c for b in found for c in b.cuts})
    kept = [c for c in cuts if not any(a - 1 <= c <= b + 2 for a, b in merged)]
    return Boundaries(kept, [(a, b) for a, b in merged])
