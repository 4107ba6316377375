"""The shared parameters and frame plumbing of the CLIP frame ops (`aesthetic`, `match`).

Weights are resolved when the op is constructed (a directory or cache lookup, no torch import), so a
recipe naming weights that are not on the machine fails before any video is opened; the model itself loads
in `setup()` once per worker, or on first use when an op is applied directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidcurate.errors import ConfigError
from vidcurate.manifest import Row
from vidcurate.models.device import DType, valid_device
from vidcurate.models.imageprep import ImagePrep
from vidcurate.models.resolve import model_dir
from vidcurate.ops.base import FrameOp, FrameSpec, Span

DEFAULT_CLIP = "openai/clip-vit-large-patch14"


@dataclass
class ClipFrameOp(FrameOp):
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

    def start(self, row: Row) -> Any:
        from vidcurate.models.clipframes import FrameBank

        return FrameBank(self.clip(), self.batch_size)

    def feed(self, state: Any, index: int, t: float, frame: np.ndarray) -> None:
        state.add(index, frame)

    def span_embeddings(self, state: Any, spans: list[Span]) -> list[np.ndarray]:
        """Normalised embeddings of the frames picked for each span (empty when a span got no sample)."""
        return state.embeddings([state.pick(span, self.frames) for span in spans])

    @property
    def weights_dir(self) -> Path:
        """Where the CLIP weights were found."""
        return self._dir
