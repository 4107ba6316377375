"""Hard cuts from PySceneDetect's AdaptiveDetector (content change relative to its neighbours' average).

Better than a fixed threshold on fast motion and camera movement; fed the same ~256x144 BGR frames.
"""

from __future__ import annotations

from vidcurate.detect.content import PySceneDetectCuts, min_scene_len


class AdaptiveCuts(PySceneDetectCuts):
    """Wraps `scenedetect.detectors.AdaptiveDetector`."""

    def __init__(self, fps: float, threshold: float | None = None) -> None:
        from scenedetect.detectors import AdaptiveDetector

        self.threshold = 3.0 if threshold is None else threshold
        super().__init__(AdaptiveDetector(adaptive_threshold=self.threshold, min_scene_len=min_scene_len(fps)), fps)
