"""`match`: caption/label–video CLIP similarity on a tiny random-weight CLIP through the real loading path."""

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
from vidcurate.models.randomclip import save_random_clip
from vidcurate.models.textchunks import chunk_ids
from vidcurate.ops.base import build

THREE_CUTS = "cuts/three_cuts.mp4"
SHOTS = [[0, 30], [30, 54], [54, 90], [90, 120]]
SHORT = "the orange cat and the dog."
LONG = " ".join(f"{w} sat in the sun and ran to the tree number {i}." for i, w in enumerate(["a dog", "a fox"] * 6))


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_clip(tmp_path_factory.mktemp("match_weights") / "clip")


@pytest.fixture(scope="module")
def noise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(2)
    path = tmp_path_factory.mktemp("match_media") / "noise.mp4"
    write_video(path, [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(12)], fps=12)
    return path


def make(clip_dir: Path, **params: object):
    return build("match", {"clip_model": str(clip_dir), **params})


def test_short_caption_equals_reference_clip_cosine(clip_dir: Path, noise: Path) -> None:
    from transformers import CLIPImageProcessorPil, CLIPModel, CLIPTokenizer

    row = apply(make(clip_dir, rate=12.0, frames=100), [{"id": "n", "path": str(noise), "text": SHORT}])[0]
    with av.open(str(noise)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    pixels = CLIPImageProcessorPil.from_pretrained(clip_dir)(images=frames, return_tensors="pt")["pixel_values"]
    tokens = CLIPTokenizer.from_pretrained(clip_dir)([SHORT], return_tensors="pt")
    model = CLIPModel.from_pretrained(clip_dir).eval()
    with torch.inference_mode():
        img = model.get_image_features(pixel_values=pixels)
        txt = model.get_text_features(**tokens)
        img = torch.nn.functional.normalize(getattr(img, "pooler_output", img), dim=-1)
        txt = torch.nn.functional.normalize(getattr(txt, "pooler_output", txt), dim=-1)
    expected = 100 * (img @ txt.T).mean().item()
    assert row["match"] == pytest.approx(expected, abs=1e-3)


def test_scale_one_gives_the_raw_cosine(clip_dir: Path, noise: Path) -> None:
    row = {"id": "n", "path": str(noise), "text": SHORT}
    hundred = apply(make(clip_dir), [row])[0]["match"]
    raw = apply(make(clip_dir, scale=1.0), [row])[0]["match"]
    assert -1.0 <= raw <= 1.0 and hundred == pytest.approx(100 * raw, rel=1e-6)


def test_long_caption_is_chunked_not_truncated(clip_dir: Path, noise: Path) -> None:
    op = make(clip_dir)
    op.setup()
    assert len(chunk_ids(op.clip().tokenizer, LONG)) >= 2
    row = {"id": "n", "path": str(noise), "text": LONG}
    scores = {mode: apply(make(clip_dir, long_text=mode), [row])[0]["match"] for mode in ("mean", "max", "truncate")}
    assert all(math.isfinite(v) for v in scores.values())
    assert scores["mean"] != pytest.approx(scores["truncate"], abs=1e-4)
    assert scores["max"] >= scores["mean"]
    assert op.text_embeddings(LONG).shape[0] >= 2


def test_label_mode_scores_every_row_against_the_phrase(clip_dir: Path, noise: Path) -> None:
    rows = [{"id": "a", "path": str(noise), "text": "something else entirely"}, {"id": "b", "path": str(noise)}]
    labelled = apply(make(clip_dir, label=SHORT), rows)
    captioned = apply(make(clip_dir), [{"id": "c", "path": str(noise), "text": SHORT}])[0]["match"]
    for out in labelled:
        assert "error" not in out and "match" not in out
        assert out["match_label"] == pytest.approx(captioned, abs=1e-6)
    named = apply(make(clip_dir, label="animal", column="match_animal"), rows[:1])[0]
    assert math.isfinite(named["match_animal"])


def test_one_score_per_scene_deterministic_and_batch_size_invariant(clip_dir: Path, samples) -> None:
    root, _ = samples
    row = {"id": "s", "path": str(root / THREE_CUTS), "scene_frames": SHOTS, "text": SHORT}
    runs = [apply(make(clip_dir, rate=8.0, frames=8, batch_size=b), [row])[0]["scene_scores"] for b in (1, 8, 8)]
    one, eight, again = ([s["match"] for s in r] for r in runs)
    assert len(eight) == 4 and all(math.isfinite(v) for v in eight)
    assert eight == again
    assert one == pytest.approx(eight, abs=1e-3)


def test_row_without_text_becomes_an_error_row(clip_dir: Path, noise: Path) -> None:
    out = apply(make(clip_dir), [{"id": "n", "path": str(noise), "text": "  "}])[0]
    assert out["error"].startswith("match: ValueError") and "text" in out["error"]


@pytest.mark.parametrize("name", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(clip_dir: Path, samples, name: str) -> None:
    root, _ = samples
    out = apply(make(clip_dir), [{"id": "b", "path": str(root / name), "text": SHORT}])[0]
    assert out["error"].startswith("decode") and "match" not in out


@pytest.mark.parametrize(("key", "value"), [
    ("long_text", "first"), ("scale", 0.0), ("label", " "), ("column", "bad name"), ("rate", -1.0), ("frames", 0),
])
def test_bad_parameter_names_op_and_key(clip_dir: Path, key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"op 'match': key '{key}'"):
        make(clip_dir, **{key: value})


def test_missing_weights_fail_at_construction_with_instructions(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ConfigError, match="op 'match': key 'clip_model'") as err:
        build("match", {"clip_model": "openai/clip-vit-base-patch32"})
    assert "hf download openai/clip-vit-base-patch32" in str(err.value)
