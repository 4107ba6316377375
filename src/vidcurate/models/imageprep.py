"""CLIP image preprocessing for frames that come from the shared decode pass.

The decoder already scales frames to the model's short side (cheaply, in swscale), so what is left is what
CLIPImageProcessor does after that: resize the short side exactly, centre-crop, scale to [0, 1] and
normalise. Reading the numbers from the model's `preprocessor_config.json` keeps other CLIP checkpoints
(336 px, other means) right without code changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    import torch

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ImagePrep:
    """Resize-shortest-edge, centre-crop and normalise settings of one CLIP checkpoint."""

    short_side: int = 224
    crop_width: int = 224
    crop_height: int = 224
    mean: tuple[float, ...] = CLIP_MEAN
    std: tuple[float, ...] = CLIP_STD

    @classmethod
    def from_dir(cls, path: str | Path) -> ImagePrep:
        """Settings from preprocessor_config.json, falling back to config.json's image_size and CLIP's stats."""
        path = Path(path)
        image_size = _image_size(path / "config.json")
        proc = _read_json(path / "preprocessor_config.json")
        short = _edge(proc.get("size"), image_size)
        crop = proc.get("crop_size", image_size)
        crop_h, crop_w = (crop.get("height", image_size), crop.get("width", image_size)) if isinstance(
            crop, dict) else (int(crop), int(crop))
        return cls(
            short_side=int(short),
            crop_width=int(crop_w),
            crop_height=int(crop_h),
            mean=tuple(proc.get("image_mean", CLIP_MEAN)),
            std=tuple(proc.get("image_std", CLIP_STD)),
        )

    def crop(self, frame: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB -> crop_height x crop_width x 3 uint8 (short side resized, then centre crop)."""
        height, width = frame.shape[:2]
        if min(height, width) != self.short_side:
            scale = self.short_side / min(height, width)
            size = (max(self.crop_width, round(width * scale)), max(self.crop_height, round(height * scale)))
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            frame = cv2.resize(frame, size, interpolation=interp)
            height, width = frame.shape[:2]
        top = (height - self.crop_height) // 2
        left = (width - self.crop_width) // 2
        return np.ascontiguousarray(frame[top : top + self.crop_height, left : left + self.crop_width])

    def to_tensor(self, crops: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """N x H x W x 3 uint8 crops -> N x 3 x H x W normalised pixel values on the device."""
        import torch

        pixels = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.mean, device=device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=device).view(1, 3, 1, 1)
        return ((pixels - mean) / std).to(dtype)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _image_size(config_path: Path) -> int:
    config = _read_json(config_path)
    vision = config.get("vision_config") or config
    return int(vision.get("image_size") or 224)


def _edge(size: Any, default: int) -> int:
    if isinstance(size, dict):
        return int(size.get("shortest_edge") or min(size.get("height", default), size.get("width", default)))
    return int(size) if size else default
