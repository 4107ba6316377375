"""Hard cuts from PySceneDetect's ContentDetector (HSV change between consecutive frames).

Frames come from our decode pass at about 256x144 (what PySceneDetect's auto-downscale gives 720p/1080p),
so its threshold keeps its meaning. Our default is 22, not PySceneDetect's 27: 27 missed a plainly visible
dark-scene cut (katna_pos_video frame 8 scores 25.9) and 22 added no false cut on our synthetic or real sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidcurate.detect import Boundaries, Detector

THRESHOLD = 22.0
"""Default cut threshold on PySceneDetect's content score (mean HSV change, 0-255)."""

MIN_SCENE_SECONDS = 0.25
"""PySceneDetect's min_scene_len in seconds (its default is 15 frames); suppresses flash double-cuts."""


def min_scene_len(fps: float) -> int:
    """Frames between two cuts at least, for PySceneDetect's flash filter."""
    return max(1, round(MIN_SCENE_SECONDS * (fps or 25.0)))


class PySceneDetectCuts(Detector):
    """Feeds our BGR frames to a PySceneDetect detector's `process_frame` and collects its cut frames."""

    fmt = "bgr24"

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.cuts: list[int] = []
        self.last = -1

    def feed(self, index: int, frame: np.ndarray) -> None:
        self.cuts += self.detector.process_frame(index, frame)
        self.last = index

    def finish(self, num_frames: int) -> Boundaries:
        self.cuts += self.detector.post_process(max(self.last, 0))
        return Boundaries(sorted(c for c in set(self.cuts) if 0 < c < num_frames))


class ContentCuts(PySceneDetectCuts):
    """Wraps `scenedetect.detectors.ContentDetector`."""

    def __init__(self, fps: float, threshold: float | None = None) -> None:
        from scenedetect.detectors import ContentDetector

        self.threshold = THRESHOLD if threshold is None else threshold
        super().__init__(ContentDetector(threshold=self.threshold, min_scene_len=min_scene_len(fps)))
