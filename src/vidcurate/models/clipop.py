"""The shared parameters and frame plumbing of the CLIP frame ops (`aesthetic`, `match`).

Weights are resolved when the op is constructed (a directory or cache lookup, no torch import), so a
recipe naming weights that are not on the machine fails before any video is opened; the model itself loads
in `setup()`, only in the processes that run the op's model stage. The scan crops the sampled frames to
CLIP's input and collects `frames` of them per span; the model stage embeds every frame of a batch of
spans (gathered across rows and sources) in model batches of `batch_size`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidcurate.errors import ConfigError
from vidcurate.models.device import DType, valid_device
from vidcurate.models.imageprep import ImagePrep
from vidcurate.models.resolve import model_dir
from vidcurate.ops.base import FrameModelOp, FrameSpec, Resources

DEFAULT_CLIP = "openai/clip-vit-large-patch14"


@dataclass
class ClipFrameOp(FrameModelOp):
    """Base of ops that embed a few sampled frames per span with CLIP."""

    clip_model: str = DEFAULT_CLIP
    #: frames sampled per second of source by the decode pass
    rate: float = 2.0
    #: at most this many sampled frames per span are embedded and averaged
    frames: int = 3
    batch_size: int = 32
    device: str = "auto"
    dtype: DType = "auto"

    #: whether the text tower (and tokenizer) is needed
    needs_text = False
    #: memory one model process needs (MB)
    memory_mb = 3000

    def validate(self) -> None:
        if not self.rate > 0:
            raise self.bad("rate", "must be > 0 (frames per second)")
        if self.frames < 1:
            raise self.bad("frames", "must be >= 1")
        if self.batch_size < 1:
            raise self.bad("batch_size", "must be >= 1")
        if not valid_device(self.device):
            raise self.bad("device", "must be auto, cpu, mps, cuda or cuda:N")
        self.validate_more()
        try:
            self._dir = model_dir(self.clip_model, what="CLIP")
        except ConfigError as e:
            raise self.bad("clip_model", str(e)) from None
        self._prep = ImagePrep.from_dir(self._dir)
        self._clip: Any = None

    @property
    def resources(self) -> Resources:  # type: ignore[override]
        """One GPU per model process unless the op is pinned to the CPU (or Apple's MPS); with no GPU visible
        the local executor runs one process on the CPU."""
        gpus = 0.0 if self.device in ("cpu", "mps") else 1.0
        return Resources(cpus=1.0, gpus=gpus, memory_mb=self.memory_mb)

    def validate_more(self) -> None:
        """Op-specific checks that do not need the weights."""

    def setup(self) -> None:
        self.clip()

    def clip(self) -> Any:
        """The loaded model (loaded on first call)."""
        if self._clip is None:
            from vidcurate.models.clip import Clip

            self._clip = Clip(self._dir, text=self.needs_text, device=self.device, dtype=self.dtype)
            self.loaded()
        return self._clip

    def loaded(self) -> None:
        """Hook run once after the model loads (e.g. to load a head)."""

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt="rgb24", short_side=self._prep.short_side, rate=self.rate)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The CLIP input crop, made in the scan so only small crops travel to the model stage."""
        return self._prep.crop(frame)

    def collect_key(self) -> dict[str, Any]:
        return {**super().collect_key(), "crop": self._prep.short_side, "clip_model": self.clip_model}

    def embed_items(self, payloads: list[dict[str, Any]]) -> list[np.ndarray]:
        """Normalised embeddings (n x dim) of each payload's frames, all frames of the batch embedded at once
        in model batches of `batch_size`; a payload without frames gets an empty array."""
        clip = self.clip()
        crops = [frame for p in payloads for frame in p["frames"]]
        embedded = clip.embed_images(np.stack(crops), self.batch_size) if crops else np.zeros((0, clip.dim))
        out, at = [], 0
        for p in payloads:
            out.append(np.asarray(embedded[at:at + len(p["frames"])], np.float32))
            at += len(p["frames"])
        return out

    @property
    def weights_dir(self) -> Path:
        """Where the CLIP weights were found."""
        return self._dir
