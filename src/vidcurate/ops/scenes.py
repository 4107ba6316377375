"""`scenes`: find shots (hard cuts and gradual transitions) from the shared decode pass.

The source row gets `scene_frames` ([start, end) per kept scene), `scene_times` (seconds, from the decode
pass's per-frame timestamps, so VFR and delayed starts are right), Open-Sora's `timestamp` string,
`num_scenes`, `transitions` (inclusive frame ranges removed from both neighbouring scenes) and
`scene_dropped` (scenes too short to keep, with the reason). `split` turns them into scene rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from vidcurate import detect
from vidcurate.columns import Column
from vidcurate.detect import post
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameSpec, Resources, Span, SpanOp, register


@register
class Scenes(SpanOp):
    """Scene detection with a choice of detector (see `vidcurate.detect`)."""

    name = "scenes"
    resources = Resources(cpus=1.0, memory_mb=768)
    produces: ClassVar[tuple[Column, ...]] = (
        Column("timestamp", "str", "", "Open-Sora scene list: [('HH:MM:SS.mmm', 'HH:MM:SS.mmm'), ...]"),
        Column("scene_frames", "json", "frame", "list of [start_frame, end_frame) scene spans"),
        Column("scene_times", "json", "s", "list of [start_s, end_s) scene spans, parallel to scene_frames"),
        Column("scene_dropped", "json", "frame", "scenes rejected by length: [start, end, reason]"),
        Column("num_scenes", "int", "", "number of scenes kept"),
        Column("transitions", "json", "frame", "gradual transitions found, [first, last] inclusive"),
    )

    detector: str = "content+gradual"
    threshold: float | None = None
    min_seconds: float = 0.0
    max_seconds: float | None = None
    start_trim: int = 0
    end_trim: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        try:
            detect.parse(self.detector)
        except ValueError as e:
            raise self.bad("detector", str(e)) from None
        if self.threshold is not None and self.threshold <= 0:
            raise self.bad("threshold", f"must be > 0, got {self.threshold}")
        if self.min_seconds < 0:
            raise self.bad("min_seconds", f"must be >= 0, got {self.min_seconds}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise self.bad("max_seconds", f"must be > 0, got {self.max_seconds}")
        if self.max_seconds is not None and self.max_seconds < self.min_seconds:
            raise self.bad("max_seconds", f"must be >= min_seconds ({self.min_seconds}), got {self.max_seconds}")
        for key in ("start_trim", "end_trim"):
            if getattr(self, key) < 0:
                raise self.bad(key, f"must be >= 0 frames, got {getattr(self, key)}")
        if self.device != "cpu" and not self.device.startswith(("cuda", "mps")):
            raise self.bad("device", f"expected 'cpu', 'cuda[:N]' or 'mps', got {self.device!r}")

    def setup(self) -> None:
        if "transnetv2" in detect.parse(self.detector):
            from vidcurate.detect.transnetv2 import load_model

            load_model(self.device)

    def frame_spec(self) -> FrameSpec:
        parts = detect.parse(self.detector)
        if "transnetv2" in parts:
            from vidcurate.detect.transnetv2 import SIZE

            return FrameSpec(fmt="rgb24", width=SIZE[0], height=SIZE[1])
        return FrameSpec(fmt="bgr24", short_side=144, interpolation="fast_bilinear")

    def start(self, row: Row, spans: list[Span] | None) -> Any:
        fps = float(row.get("fps") or 0) or 25.0
        return {"fps": fps, "detectors": detect.make(self.detector, fps, self.threshold, self.device)}

    def feed(self, state: Any, index: int, t: float, frame: np.ndarray) -> None:
        for d in state["detectors"]:
            d.feed(index, frame)

    def spans(self, state: Any, row: Row, num_frames: int, times: list[float]) -> dict[str, Any]:
        if num_frames == 0:
            raise ValueError("no video frames decoded")
        bounds = detect.merge([d.finish(num_frames) for d in state["detectors"]])
        fps = _fps(times, state["fps"])
        kept, dropped = post.finalize(
            post.raw_scenes(bounds, num_frames), times, fps, min_seconds=self.min_seconds,
            max_seconds=self.max_seconds, start_trim=self.start_trim, end_trim=self.end_trim,
        )
        scene_times = [[round(float(times[s]), 6), round(post.end_time(times, e, fps), 6)] for s, e in kept]
        return {
            "scene_frames": [[s, e] for s, e in kept],
            "scene_times": scene_times,
            "timestamp": post.open_sora_timestamp(scene_times),
            "num_scenes": len(kept),
            "transitions": [[a, b] for a, b in bounds.transitions],
            "scene_dropped": dropped,
        }


def _fps(times: list[float], fallback: float) -> float:
    """Frames per second from the decoded timestamps (median gap), else the row's fps."""
    if len(times) >= 2:
        gap = float(np.median(np.diff(times)))
        if gap > 0:
            return 1.0 / gap
    return fallback
