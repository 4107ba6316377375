"""`quality`: technical image quality per span: sharpness, brightness, contrast, colourfulness, black, frozen.

Frames come from the shared decode pass as RGB at a fixed analysis size (`size` px on the short side; smaller
sources are upscaled to it so that sharpness is on one scale whatever the resolution), sampled `rate` times per
second of source time (`rate: null`: every decoded frame). Per sample:

- `sharpness`: variance of the 3x3 Laplacian of luma (blur lowers it; noise raises it);
- `brightness` / `contrast`: mean / standard deviation of luma (BT.601, full range 0-255);
- `colorfulness`: Hasler & Suesstrunk (2003), sigma_rgyb + 0.3 * mu_rgyb over rg = R-G, yb = (R+G)/2-B;
- black: mean luma < `black_level` and luma std < `black_std`;
- frozen (a pair of consecutive samples): luma averaged over 8x8-pixel blocks changes by less than
  `frozen_diff` in every block. Block means cancel sensor noise and re-quantisation at keyframes, and the
  maximum over blocks still sees one small moving object. Pairs where both samples are black are not counted
  as frozen (black_ratio covers them).

Comparing samples `1/rate` apart rather than neighbouring decoded frames is deliberate: pulldown and
animation "on twos" repeat single frames in healthy footage, and slow motion moves too little between
neighbouring frames at analysis size to tell from a freeze; a held picture stays identical across the gap.
A perfectly still shot (a still image) is frozen by this definition.

Per span the continuous scores are means over the samples inside it, black_ratio is the share of its samples
that are black, frozen_ratio the share of its consecutive sample pairs that are frozen. A span with no sample
takes the sample nearest to its middle in time; a span with one sample takes that sample's pair with its
predecessor (0 for the first sample of the pass).

The default analysis frame (RGB, 256 px short side) is the one ocr, nsfw and face ask for too
(`vidcurate.sampling.ANALYSIS_SIDE`), so fused with them the decode pass converts each sampled frame once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register
from vidcurate.sampling import ANALYSIS_FMT, ANALYSIS_SIDE, nearest

BLOCK = 8
"""Side of the square blocks (analysis pixels) whose mean luma the frozen test compares."""


@dataclass
class _Sample:
    """Scores of one sampled frame; `frozen` compares it with the previous sample of the pass."""

    index: int
    t: float
    sharpness: float
    brightness: float
    contrast: float
    colorfulness: float
    black: bool
    frozen: bool


@register
class Quality(FrameOp):
    """Technical quality scores of each span (see the module docstring for the definitions)."""

    name = "quality"
    resources = Resources(cpus=0.5, memory_mb=256)
    produces = (
        Column("sharpness", "float", "", "variance of the Laplacian of luma at 256px short side (smaller upscaled)"),
        Column("brightness", "float", "0-255", "mean luma (BT.601 full range)"),
        Column("contrast", "float", "0-255", "standard deviation of luma (BT.601 full range)"),
        Column("colorfulness", "float", "", "Hasler-Suesstrunk colourfulness"),
        Column("black_ratio", "float", "", "share of sampled frames that are black"),
        Column("frozen_ratio", "float", "", "share of consecutive sampled pairs with no change (8x8 block-mean "
               "luma < frozen_diff); black pairs excluded"),
    )

    rate: float | None = 4.0
    size: int = ANALYSIS_SIDE
    black_level: float = 20.0
    black_std: float = 10.0
    frozen_diff: float = 4.0

    def validate(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise self.bad("rate", "must be > 0 samples per second, or null for every frame")
        if not 32 <= self.size <= 2160:
            raise self.bad("size", "analysis short side must be between 32 and 2160 pixels")
        if not 0 <= self.black_level <= 255:
            raise self.bad("black_level", "mean luma threshold must be between 0 and 255")
        if not 0 <= self.black_std <= 255:
            raise self.bad("black_std", "luma std threshold must be between 0 and 255")
        if not 0 < self.frozen_diff <= 255:
            raise self.bad("frozen_diff", "block luma difference must be in (0, 255]")

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt=ANALYSIS_FMT, short_side=self.size, rate=self.rate)

    def start(self, row: Row, spans: list[Span] | None) -> dict[str, Any]:
        return {"samples": [], "blocks": None, "black": False}

    def feed(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        frame = self._at_size(frame)
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        mean, std = (float(v[0][0]) for v in cv2.meanStdDev(gray))
        black = mean < self.black_level and std < self.black_std
        height, width = gray.shape
        blocks = cv2.resize(gray.astype(np.float32), (max(1, width // BLOCK), max(1, height // BLOCK)),
                            interpolation=cv2.INTER_AREA)
        prev = state["blocks"]
        frozen = (
            prev is not None
            and prev.shape == blocks.shape
            and not (black and state["black"])
            and float(np.abs(blocks - prev).max()) < self.frozen_diff
        )
        state["blocks"], state["black"] = blocks, black
        state["samples"].append(_Sample(
            index=index,
            t=t,
            sharpness=float(cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_32F))[1][0][0]) ** 2,
            brightness=mean,
            contrast=std,
            colorfulness=colorfulness(frame),
            black=black,
            frozen=frozen,
        ))

    def finish(self, state: dict[str, Any], row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        samples: list[_Sample] = state["samples"]
        out: list[dict[str, Any]] = []
        for start, end in spans:
            inside = [s for s in samples if start <= s.index < end]
            if not inside and samples:
                inside = [nearest(samples, start, end, times)]
            if not inside:
                out.append({})
                continue
            pairs = [s.frozen for s in inside[1:]] if len(inside) > 1 else [inside[0].frozen]
            out.append({
                "sharpness": round(_mean([s.sharpness for s in inside]), 3),
                "brightness": round(_mean([s.brightness for s in inside]), 3),
                "contrast": round(_mean([s.contrast for s in inside]), 3),
                "colorfulness": round(_mean([s.colorfulness for s in inside]), 3),
                "black_ratio": round(_mean([float(s.black) for s in inside]), 4),
                "frozen_ratio": round(_mean([float(f) for f in pairs]), 4),
            })
        return out

    def _at_size(self, frame: np.ndarray) -> np.ndarray:
        """Upscale frames whose short side is below the analysis size (the decode pass only downscales)."""
        height, width = frame.shape[:2]
        if min(height, width) >= self.size - 1:
            return frame
        scale = self.size / min(height, width)
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of an RGB uint8 image (0 for grey; ~100+ very colourful)."""
    r, g, b = cv2.split(rgb)
    rg = cv2.subtract(r, g, dtype=cv2.CV_16S)
    yb2 = cv2.subtract(cv2.add(r, g, dtype=cv2.CV_16S), cv2.add(b, b, dtype=cv2.CV_16S))  # 2 * yb, exact in int16
    rg_mean, rg_std = (float(v[0][0]) for v in cv2.meanStdDev(rg))
    yb_mean, yb_std = (float(v[0][0]) / 2 for v in cv2.meanStdDev(yb2))
    return float(np.hypot(rg_std, yb_std) + 0.3 * np.hypot(rg_mean, yb_mean))


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
