"""`aesthetic` -> `aes`: LAION improved-aesthetic-predictor score (CLIP ViT-L/14 + MLP head), 1-10.

The same model and scale as Open-Sora's `aes` column: the head rates each picked frame from its
L2-normalised CLIP image embedding and `aes` is the mean over the span's frames (Open-Sora uses 3 frames
per clip; so do we by default). Spans too short to get a sampled frame get `aes = None`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidcurate.columns import Column
from vidcurate.errors import ConfigError
from vidcurate.models.clipop import ClipFrameOp
from vidcurate.models.resolve import weight_file
from vidcurate.ops.base import register

HEAD_NAME = "sac+logos+ava1-l14-linearMSE.pth"
HEAD_HINT = (f"the LAION head {HEAD_NAME} comes from github.com/christophschuhmann/improved-aesthetic-predictor; "
             "download it on a machine with network and pass its path as `head:`; ")


@register
@dataclass
class Aesthetic(ClipFrameOp):
    """Aesthetic score of each span from a few frames."""

    name = "aesthetic"
    produces = (
        Column("aes", "float", "1-10", "LAION aesthetic score (CLIP ViT-L/14 + MLP head)"),
    )
    memory_mb = 3000

    #: the MLP head weights (.pth/.pt/.safetensors path, a name under $VIDCURATE_MODELS, or org/repo/file)
    head: str = HEAD_NAME

    def validate_more(self) -> None:
        try:
            self._head_path = weight_file(self.head, what="aesthetic head", hint=HEAD_HINT)
        except ConfigError as e:
            raise self.bad("head", str(e)) from None
        self._head: Any = None

    def loaded(self) -> None:
        import torch

        from vidcurate.models.aesthetic_head import load_head

        clip = self._clip
        head = load_head(self._head_path, input_dim=clip.dim)
        self._head = head.to(clip.device, torch.float32)

    def rate_embeddings(self, embeddings: Any) -> list[float]:
        """Head outputs for n x dim normalised embeddings."""
        import torch

        clip = self.clip()
        with torch.inference_mode():
            scores = self._head(torch.from_numpy(embeddings).to(clip.device, torch.float32))
        return [float(s) for s in scores.reshape(-1).cpu()]

    def process_batch(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for emb in self.embed_items(payloads):
            scores = self.rate_embeddings(emb) if len(emb) else []
            out.append({"aes": sum(scores) / len(scores) if scores else None})
        return out
