"""Per-source frame state shared by the CLIP frame ops: crop on arrival, embed lazily, pick frames per span.

Frames arrive from the decode pass at `rate` per second and are kept as small uint8 crops. Spans are only
known at `finish`, so embedding waits until then and only the `frames` picked per span are embedded: a clip
costs `frames` forward passes, not rate x duration. For long sources the crops are flushed through the
model whenever `MAX_PENDING` pile up, which bounds memory (~150 KB per crop at 224 px) at the cost of
embedding every sampled frame. Either way each frame's embedding is the same, so results do not depend on
how frames were batched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidcurate.models.clip import Clip

MAX_PENDING = 256


@dataclass
class FrameBank:
    """Sampled frames of one source: decode indices, crops not yet embedded, embeddings computed so far."""

    clip: Clip
    batch_size: int
    indices: list[int] = field(default_factory=list)
    pending: dict[int, np.ndarray] = field(default_factory=dict)
    embedded: dict[int, np.ndarray] = field(default_factory=dict)

    def add(self, index: int, frame: np.ndarray) -> None:
        """Keep one sampled frame (as a crop); flush through the model when too many are pending."""
        self.indices.append(index)
        self.pending[index] = self.clip.prep.crop(frame)
        if len(self.pending) >= MAX_PENDING:
            self._embed(list(self.pending))

    def pick(self, span: tuple[int, int], count: int) -> list[int]:
        """Up to `count` sampled frames of a span, evenly spread (bin centres; count 1 = the middle one)."""
        inside = [i for i in self.indices if span[0] <= i < span[1]]
        if len(inside) <= count:
            return inside
        return [inside[int((k + 0.5) * len(inside) / count)] for k in range(count)]

    def embeddings(self, picks: list[list[int]]) -> list[np.ndarray]:
        """Normalised embeddings (n x dim) for each list of picked frames, embedding all missing ones at once."""
        self._embed(sorted({i for group in picks for i in group if i not in self.embedded}))
        empty = np.zeros((0, self.clip.dim), np.float32)
        return [np.stack([self.embedded[i] for i in group]) if group else empty for group in picks]

    def _embed(self, indices: list[int]) -> None:
        if not indices:
            return
        crops = np.stack([self.pending.pop(i) for i in indices])
        for i, emb in zip(indices, self.clip.embed_images(crops, self.batch_size)):
            self.embedded[i] = emb
