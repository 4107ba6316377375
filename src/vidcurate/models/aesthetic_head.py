"""The LAION improved-aesthetic-predictor MLP head, in the state-dict layout of its published weights.

`sac+logos+ava1-l14-linearMSE.pth` (github.com/christophschuhmann/improved-aesthetic-predictor) is an
`nn.Sequential` stored as `layers`: Linear(768, 1024), Dropout(0.2), Linear(1024, 128), Dropout(0.2),
Linear(128, 64), Dropout(0.1), Linear(64, 16), Linear(16, 1), i.e. keys `layers.{0,2,4,6,7}.{weight,bias}`
with no activations. The repo's ReLU variant (`ava+logos-l14-reluMSE.pth`, keys `layers.{0,3,6,9,11}`) loads
too. Its input is the L2-normalised CLIP ViT-L/14 image embedding; its output is a 1-10 rating.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

LINEAR_KEYS = (0, 2, 4, 6, 7)
RELU_KEYS = (0, 3, 6, 9, 11)
WIDTHS = (1024, 128, 64, 16, 1)
DROPOUTS = (0.2, 0.2, 0.1)


def build_head(input_dim: int = 768, *, relu: bool = False) -> torch.nn.Module:
    """An untrained head with the published layout (module attribute `layers`)."""
    import torch

    parts: list[torch.nn.Module] = []
    dims = (input_dim, *WIDTHS)
    for i in range(len(WIDTHS)):
        parts.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i == len(WIDTHS) - 1:
            break
        if relu:
            parts.append(torch.nn.ReLU())
        if i < len(DROPOUTS):
            parts.append(torch.nn.Dropout(DROPOUTS[i]))
    head = torch.nn.Module()
    head.layers = torch.nn.Sequential(*parts)
    head.forward = head.layers.forward  # type: ignore[method-assign]
    return head


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The head's state dict from .pth/.pt/.ckpt (plain or Lightning-wrapped) or .safetensors."""
    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict")
    return {k.removeprefix("model."): v for k, v in state.items()}


def load_head(path: str | Path, *, input_dim: int | None = None) -> torch.nn.Module:
    """Load a head file, checking its layout and (when given) that its input matches the CLIP embedding."""
    state = read_state(path)
    linear = {int(k.split(".")[1]) for k in state if k.startswith("layers.") and k.endswith(".weight")}
    if linear not in (set(LINEAR_KEYS), set(RELU_KEYS)):
        raise ValueError(f"{path}: not an improved-aesthetic-predictor head (Linear layers at {sorted(linear)}, "
                         f"expected layers.{{0,2,4,6,7}} or layers.{{0,3,6,9,11}})")
    dim = int(state["layers.0.weight"].shape[1])
    if input_dim is not None and dim != input_dim:
        raise ValueError(f"{path}: head takes {dim}-d embeddings but the CLIP model gives {input_dim}-d "
                         "(the published head needs CLIP ViT-L/14, projection_dim 768)")
    head = build_head(dim, relu=linear == set(RELU_KEYS))
    head.load_state_dict(state, strict=True)
    return head.eval()
