"""Hard cuts from PySceneDetect's AdaptiveDetector (content change relative to its neighbours' average).

Better than a fixed threshold on fast motion and camera movement; fed the same ~256x144 BGR frames.
"""

from __future__ import annotations

import numpy as np

from vidcurate.detect import Boundaries, Detector
from vidcurate.detect.content import min_scene_len


class AdaptiveCuts(Detector):
    """Wraps `scenedetect.detectors.AdaptiveDetector`, fed BGR frames."""

    fmt = "bgr24"

    def __init__(self, fps: float, threshold: float | None = None) -> None:
        from scenedetect.detectors import AdaptiveDetector

        self.threshold = 3.0 if threshold is None else threshold
        self.detector = AdaptiveDetector(adaptive_threshold=self.threshold, min_scene_len=min_scene_len(fps))
        self.cuts: list[int] = []
        self.last = -1

    def feed(self, index: int, frame: np.ndarray) -> None:
        self.cuts += self.detector.process_frame(index, frame)
        self.last = index

    def finish(self, num_frames: int) -> Boundaries:
        self.cuts += self.detector.post_process(max(self.last, 0))
        return Boundaries(sorted(c for c in set(self.cuts) if 0 < c < num_frames))
