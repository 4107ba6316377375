"""`thumbnail`: a small JPEG of each span's middle, taken from the shared decode pass, for the report."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register


@register
class Thumbnail(FrameOp):
    """Keep the sampled frame closest to each span's middle as a base64 JPEG in `thumb`."""

    name = "thumbnail"
    resources = Resources(cpus=0.1, memory_mb=128)
    produces = (
        Column("thumb", "str", "", "base64 JPEG of the span's middle frame (for the report)"),
    )

    height: int = 96
    rate: float = 2.0
    quality: int = 70

    def validate(self) -> None:
        if not 16 <= self.height <= 720:
            raise self.bad("height", "must be between 16 and 720 pixels")
        if self.rate <= 0:
            raise self.bad("rate", "must be > 0 samples per second")
        if not 10 <= self.quality <= 95:
            raise self.bad("quality", "JPEG quality must be between 10 and 95")

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt="rgb24", short_side=self.height, rate=self.rate)

    def start(self, row: Row, spans: list[Span] | None) -> list[tuple[int, bytes]]:
        return []

    def feed(self, state: list[tuple[int, bytes]], index: int, t: float, frame: np.ndarray) -> None:
        """Keep samples JPEG-compressed: spans are unknown until the pass ends, and raw frames add up."""
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=self.quality)
        state.append((index, buf.getvalue()))

    def finish(
        self, state: list[tuple[int, bytes]], row: Row, spans: list[Span], times: list[float]
    ) -> list[dict[str, Any]]:
        out = []
        for start, end in spans:
            middle = (start + end) / 2
            inside = [s for s in state if start <= s[0] < end] or state
            if not inside:
                out.append({})
                continue
            _, jpeg = min(inside, key=lambda s: abs(s[0] - middle))
            out.append({"thumb": base64.b64encode(jpeg).decode("ascii")})
        return out
