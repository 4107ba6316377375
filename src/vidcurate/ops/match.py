"""`match`: CLIP similarity between a span's frames and the row's caption (`text`) or a fixed label.

`match` = scale x cosine(frame embedding, text embedding), averaged over the span's picked frames. The
default scale 100 is CLIP's logit scale, the number Open-Sora writes in its `match` column (so its
thresholds carry over; set `scale: 1` for the raw cosine). Captions longer than CLIP's 77 tokens are split
into sentence-packed chunks and every chunk is scored (`long_text: mean`, the default, so a caption that
says things the video does not show scores lower; `max` keeps the best chunk; `truncate` is Open-Sora's
behaviour, the first 75 tokens only). With `label` every row is scored against that phrase instead, into
`match_label` (or `column`), as MindONE's label matching does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.models.clipop import ClipFrameOp
from vidcurate.models.textchunks import chunk_ids, pack, truncated_ids
from vidcurate.ops.base import register

TEXT_CACHE = 1024


@register
@dataclass
class Match(ClipFrameOp):
    """Caption-video (or label-video) agreement per span."""

    name = "match"
    produces = (
        Column("match", "float", "100*cos", "CLIP similarity of frames and caption x100 (Open-Sora scale); "
               "long captions: mean over <=77-token chunks"),
        Column("match_label", "float", "100*cos", "CLIP similarity of frames and the op's fixed `label` phrase"),
    )
    memory_mb = 4000
    needs_text = True

    #: score against this phrase instead of the row's `text`
    label: str | None = None
    #: output column (default: `match`, or `match_label` with a label)
    column: str | None = None
    #: how a caption longer than 77 tokens is scored: mean or max over chunks, or truncate
    long_text: Literal["mean", "max", "truncate"] = "mean"
    #: multiplier on the cosine similarity (100 = CLIP logit scale, Open-Sora's `match`)
    scale: float = 100.0

    def validate_more(self) -> None:
        if self.label is not None and not self.label.strip():
            raise self.bad("label", "must be a non-empty phrase")
        if self.column is not None and not self.column.isidentifier():
            raise self.bad("column", "must be a plain column name (letters, digits, _)")
        if not self.scale > 0:
            raise self.bad("scale", "must be > 0")
        self._texts: dict[str, np.ndarray] = {}

    @property
    def out_column(self) -> str:
        return self.column or ("match_label" if self.label else "match")

    def check_row(self, row: Row) -> None:
        text = self.label if self.label else row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("row has no `text` to match (caption the clips first, or give `label`)")

    def context(self, row: Row) -> dict[str, Any]:
        return {"text": self.label or row["text"]}

    def text_embeddings(self, text: str) -> np.ndarray:
        """Normalised embeddings of the text's chunks (one row per chunk), cached per text."""
        if text not in self._texts:
            clip = self.clip()
            split = truncated_ids if self.long_text == "truncate" else chunk_ids
            chunks = split(clip.tokenizer, text, clip.max_length)
            if not chunks:
                raise ValueError("text has no tokens")
            if len(self._texts) >= TEXT_CACHE:
                self._texts.clear()
            self._texts[text] = clip.embed_tokens(*pack(clip.tokenizer, chunks, clip.max_length))
        return self._texts[text]

    def process_batch(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for payload, emb in zip(payloads, self.embed_items(payloads)):
            value = None
            if len(emb):
                texts = self.text_embeddings(payload["text"])
                per_chunk = (emb @ texts.T).mean(axis=0)
                agg = per_chunk.max() if self.long_text == "max" else per_chunk.mean()
                value = float(agg) * self.scale
            out.append({self.out_column: value})
        return out
