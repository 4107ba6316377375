"""Random-weight CLIP checkpoints written like real ones, for tests and benchmarks (no download needed).

`save_random_clip` writes config.json + model.safetensors + preprocessor_config.json + a small CLIP BPE
tokenizer, so the real offline loading path is exercised end to end; `save_random_head` writes an aesthetic
head in the published state-dict layout.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from vidcurate.models.imageprep import CLIP_MEAN, CLIP_STD

#: ViT-L/14 vision tower dimensions (openai/clip-vit-large-patch14)
VIT_L14 = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
           "patch_size": 14, "image_size": 224}
#: a vision tower small enough for tests on a CPU
TINY_VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
               "patch_size": 8, "image_size": 32}
TINY_TEXT = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
MERGES = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("i", "n"), ("in", "g</w>")]


def tiny_tokenizer() -> Any:
    """A CLIP BPE tokenizer over lowercase letters, digits and punctuation (real CLIP special tokens)."""
    from transformers import CLIPTokenizer

    chars = list(string.ascii_lowercase + string.digits + ".,!?;:'-")
    vocab: dict[str, int] = {}
    for token in chars + [c + "</w>" for c in chars] + [a + b for a, b in MERGES]:
        vocab.setdefault(token, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=list(MERGES), model_max_length=77)


def save_random_clip(path: str | Path, *, vision: dict[str, Any] | None = None, text: dict[str, Any] | None = None,
                     projection_dim: int = 768, seed: int = 0, vision_only: bool = False) -> Path:
    """Write a random CLIP checkpoint (full CLIPModel, or vision tower only) and its preprocessing files."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPVisionConfig, CLIPVisionModelWithProjection

    path = Path(path)
    vision = dict(vision or TINY_VISION, projection_dim=projection_dim)
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    if vision_only:
        model: Any = CLIPVisionModelWithProjection(CLIPVisionConfig(**vision))
    else:
        text = dict(text or TINY_TEXT, projection_dim=projection_dim, vocab_size=len(tokenizer),
                    max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id,
                    eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    size = vision["image_size"]
    (path / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": size},
        "crop_size": {"height": size, "width": size}, "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD),
        "do_resize": True, "do_center_crop": True, "do_normalize": True, "do_rescale": True,
    }))
    return path


def save_random_head(path: str | Path, *, input_dim: int = 768, seed: int = 0, relu: bool = False) -> Path:
    """Write a random aesthetic head (.pth state dict or .safetensors) in the published layout."""
    import torch

    from vidcurate.models.aesthetic_head import build_head

    torch.manual_seed(seed)
    state = build_head(input_dim, relu=relu).state_dict()
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, str(path))
    return path
