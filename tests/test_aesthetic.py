"""`aesthetic`: tiny random-weight CLIP + head through the real offline loading and the shared decode pass."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.synth import write_video
from vidcurate.models.aesthetic_head import load_head
from vidcurate.models.randomclip import save_random_clip, save_random_head
from vidcurate.ops.base import build

THREE_CUTS = "cuts/three_cuts.mp4"
SHOTS = [[0, 30], [30, 54], [54, 90], [90, 120]]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("aes_weights")
    return save_random_clip(root / "clip"), save_random_head(root / "head.pth")


def make(weights: tuple[Path, Path], **params: object):
    return build("aesthetic", {"clip_model": str(weights[0]), "head": str(weights[1]), **params})


def test_score_equals_reference_transformers_pipeline(weights, tmp_path: Path) -> None:
    from transformers import CLIPImageProcessorPil, CLIPModel

    rng = np.random.default_rng(1)
    path = tmp_path / "noise.mp4"
    write_video(path, [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(12)], fps=12)
    row = apply(make(weights, rate=12.0, frames=100), [{"id": "n", "path": str(path)}])[0]

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    pixels = CLIPImageProcessorPil.from_pretrained(weights[0])(images=frames, return_tensors="pt")["pixel_values"]
    model = CLIPModel.from_pretrained(weights[0]).eval()
    with torch.inference_mode():
        out = model.get_image_features(pixel_values=pixels)
        emb = torch.nn.functional.normalize(getattr(out, "pooler_output", out), dim=-1)
        expected = load_head(weights[1])(emb).mean().item()
    assert row["aes"] == pytest.approx(expected, abs=1e-4)


def test_one_score_per_scene_and_distinct_shots_score_differently(weights, samples) -> None:
    root, _ = samples
    row = {"id": "s", "path": str(root / THREE_CUTS), "scene_frames": SHOTS}
    out = apply(make(weights), [row])[0]
    scores = [s["aes"] for s in out["scene_scores"]]
    assert len(scores) == 4 and all(math.isfinite(s) for s in scores)
    assert len({round(s, 6) for s in scores}) == 4
    assert "aes" not in out


def test_clip_file_gets_one_score_on_the_row(weights, samples) -> None:
    root, _ = samples
    out = apply(make(weights), [{"id": "c", "path": str(root / "odd/rotated.mp4")}])[0]
    assert "error" not in out and math.isfinite(out["aes"])


def test_span_without_a_sampled_frame_gets_none(weights, samples) -> None:
    root, _ = samples
    row = {"id": "s", "path": str(root / THREE_CUTS), "scene_frames": [[0, 30], [31, 33]]}
    out = apply(make(weights, rate=1.0), [row])[0]
    assert math.isfinite(out["scene_scores"][0]["aes"]) and out["scene_scores"][1]["aes"] is None


def test_deterministic_and_batch_size_invariant(weights, samples) -> None:
    root, _ = samples
    row = {"id": "s", "path": str(root / THREE_CUTS), "scene_frames": SHOTS}
    runs = [apply(make(weights, rate=8.0, frames=8, batch_size=b), [row])[0]["scene_scores"] for b in (1, 8, 8)]
    one, eight, again = ([s["aes"] for s in r] for r in runs)
    assert eight == again
    assert one == pytest.approx(eight, abs=1e-5)


def test_safetensors_head_gives_the_same_scores(weights, samples, tmp_path: Path) -> None:
    root, _ = samples
    st = save_random_head(tmp_path / "head.safetensors")
    row = {"id": "c", "path": str(root / "motion/static.mp4")}
    a = apply(make(weights), [row])[0]["aes"]
    b = apply(build("aesthetic", {"clip_model": str(weights[0]), "head": str(st)}), [row])[0]["aes"]
    assert a == pytest.approx(b, abs=1e-6)


@pytest.mark.parametrize("name", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(weights, samples, name: str) -> None:
    root, _ = samples
    out = apply(make(weights), [{"id": "b", "path": str(root / name)}])[0]
    assert out["error"].startswith("decode") and "aes" not in out


@pytest.mark.parametrize(("key", "value"), [
    ("rate", 0.0), ("frames", 0), ("batch_size", 0), ("device", "gpu"), ("dtype", "fp8"), ("frames", 2.5),
])
def test_bad_parameter_names_op_and_key(weights, key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"op 'aesthetic': key '{key}'"):
        make(weights, **{key: value})


def test_missing_clip_weights_fail_at_construction_with_instructions(weights, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ConfigError, match="key 'clip_model'") as err:
        build("aesthetic", {"head": str(weights[1])})
    assert "openai/clip-vit-large-patch14" in str(err.value) and "hf download" in str(err.value)


def test_missing_head_names_the_laion_weights(weights, monkeypatch) -> None:
    monkeypatch.delenv("VIDCURATE_MODELS", raising=False)
    with pytest.raises(ConfigError, match="key 'head'") as err:
        build("aesthetic", {"clip_model": str(weights[0])})
    assert "sac+logos+ava1-l14-linearMSE.pth" in str(err.value) and "improved-aesthetic-predictor" in str(err.value)


def test_head_wider_than_the_clip_embedding_fails_at_setup(tmp_path: Path) -> None:
    clip = save_random_clip(tmp_path / "clip64", projection_dim=64)
    op = build("aesthetic", {"clip_model": str(clip), "head": str(save_random_head(tmp_path / "h.pth"))})
    with pytest.raises(ValueError, match="768-d"):
        op.setup()


def test_real_footage_scores_are_finite(weights, external: Path) -> None:
    names = ["moviepy_big_buck_bunny_0_30.webm", "kivy_cityCC0.mpg", "pyscenedetect_issue-134-rotate.mp4"]
    rows = [{"id": n, "path": str(external / n)} for n in names if (external / n).exists()]
    for out in apply(make(weights, rate=0.5), rows):
        assert "error" not in out, out.get("error")
        assert math.isfinite(out["aes"])
