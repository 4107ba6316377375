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


FLASH_SECONDS = 0.2
"""Longest excursion that is a flash, not two cuts: when the picture after at most this long looks like the
picture before (a camera flash, an explosion, a lightning strike), the cut PySceneDetect reports at its start is
dropped. PySceneDetect's own flash filter (`min_scene_len`) only keeps the flash from giving two cuts."""
FLASH_RETURN = 0.4
"""A flash returns: a frame after it differs from the frame before it by less than this share of the jump
into it (and less than the cut threshold). After a real cut the picture stays about as far away."""
FLASH_SIZE = (64, 36)
"""Size of the HSV thumbnails compared by the flash check."""


def _signature(frame: np.ndarray) -> np.ndarray:
    import cv2

    small = cv2.resize(frame, FLASH_SIZE, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2HSV).astype(np.int16)


class PySceneDetectCuts(Detector):
    """Feeds our BGR frames to a PySceneDetect detector's `process_frame` and collects its cut frames, except
    cuts into a flash (see FLASH_SECONDS): a cut at frame c is a flash when, within the flash length, a frame
    differs from frame c - 1 by less than `same` and less than FLASH_RETURN times the jump from c - 1 to c (mean
    HSV difference, PySceneDetect's content score)."""

    fmt = "bgr24"

    def __init__(self, detector: Any, fps: float = 25.0, same: float = THRESHOLD) -> None:
        self.detector = detector
        self.cuts: list[int] = []
        self.pending: list[int] = []
        self.last = -1
        self.flash = max(1, round(FLASH_SECONDS * (fps or 25.0)))
        self.window = min_scene_len(fps) + self.flash + 2
        self.same = same
        self.signatures: dict[int, np.ndarray] = {}
        self.flashes: list[int] = []

    def feed(self, index: int, frame: np.ndarray) -> None:
        self.signatures[index] = _signature(frame)
        self.signatures.pop(index - self.window, None)
        self.pending += self.detector.process_frame(index, frame)
        self.last = index
        self._settle(index)

    def _settle(self, seen: int, final: bool = False) -> None:
        """Decide the pending cuts whose flash window has been seen (all of them at the end)."""
        waiting = []
        for cut in self.pending:
            if not final and cut + self.flash > seen:
                waiting.append(cut)
            elif self._is_flash(cut):
                self.flashes.append(cut)
            else:
                self.cuts.append(cut)
        self.pending = waiting

    def _is_flash(self, cut: int) -> bool:
        before, at = self.signatures.get(cut - 1), self.signatures.get(cut)
        if before is None or at is None:
            return False
        back = min(self.same, FLASH_RETURN * float(np.abs(at - before).mean()))
        after = [self.signatures.get(k) for k in range(cut + 1, cut + self.flash + 1)]
        return any(sig is not None and float(np.abs(sig - before).mean()) < back for sig in after)

    def finish(self, num_frames: int) -> Boundaries:
        self.pending += self.detector.post_process(max(self.last, 0))
        self._settle(self.last, final=True)
        return Boundaries(sorted(c for c in set(self.cuts) if 0 < c < num_frames))


class ContentCuts(PySceneDetectCuts):
    """Wraps `scenedetect.detectors.ContentDetector`."""

    def __init__(self, fps: float, threshold: float | None = None) -> None:
        from scenedetect.detectors import ContentDetector

        self.threshold = THRESHOLD if threshold is None else threshold
        super().__init__(ContentDetector(threshold=self.threshold, min_scene_len=min_scene_len(fps)), fps,
                         same=self.threshold)
