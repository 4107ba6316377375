"""A CLIP checkpoint loaded offline from a resolved directory, embedding image crops and token chunks.

Aesthetic scoring needs only the vision tower (CLIPVisionModelWithProjection: ~300M of ViT-L/14's 428M
parameters); matching loads the full CLIPModel. Embeddings come back L2-normalised in float32 numpy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vidcurate.models.device import DType, pick_device, pick_dtype
from vidcurate.models.imageprep import ImagePrep


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and progress bars while loading a checkpoint."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        logging.enable_progress_bar()


class Clip:
    """CLIP image (and optionally text) encoder on one device/dtype."""

    def __init__(self, path: str | Path, *, text: bool, device: str = "auto", dtype: DType = "auto") -> None:
        import torch
        from transformers import AutoConfig, CLIPModel, CLIPVisionModelWithProjection

        self.path = Path(path)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.prep = ImagePrep.from_dir(self.path)
        self.tokenizer: Any = None
        with quiet_transformers():
            config = AutoConfig.from_pretrained(self.path, local_files_only=True)
            vision = getattr(config, "vision_config", config)
            vision.projection_dim = getattr(config, "projection_dim", vision.projection_dim)
            if text:
                model = CLIPModel.from_pretrained(self.path, local_files_only=True)
                from transformers import AutoTokenizer

                self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            else:
                model = CLIPVisionModelWithProjection.from_pretrained(self.path, config=vision, local_files_only=True)
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.full = text
        self.dim = int(vision.projection_dim)
        text_config = getattr(config, "text_config", None)
        self.max_length = int(getattr(text_config, "max_position_embeddings", 77) or 77)
        self._torch = torch

    def embed_images(self, crops: np.ndarray, batch_size: int) -> np.ndarray:
        """N x H x W x 3 uint8 crops -> N x dim normalised embeddings (float32)."""
        torch = self._torch
        out = []
        with torch.inference_mode():
            for i in range(0, len(crops), batch_size):
                pixels = self.prep.to_tensor(crops[i : i + batch_size], self.device, self.dtype)
                if self.full:
                    feats = _tensor(self.model.get_image_features(pixel_values=pixels))
                else:
                    feats = self.model(pixel_values=pixels).image_embeds
                out.append(torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def embed_tokens(self, ids: np.ndarray, mask: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Packed token chunks -> M x dim normalised text embeddings (float32)."""
        torch = self._torch
        out = []
        with torch.inference_mode():
            for i in range(0, len(ids), batch_size):
                feats = _tensor(self.model.get_text_features(
                    input_ids=torch.from_numpy(ids[i : i + batch_size]).to(self.device),
                    attention_mask=torch.from_numpy(mask[i : i + batch_size]).to(self.device)))
                out.append(torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)


def _tensor(result: Any) -> Any:
    """get_*_features returns a tensor in transformers 4 and an output object (pooler_output) in 5."""
    return result if hasattr(result, "dim") else result.pooler_output
