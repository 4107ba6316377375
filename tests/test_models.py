"""Model plumbing: offline weight resolution, device/dtype choice, CLIP preprocessing, caption chunking, head."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidcurate.errors import ConfigError
from vidcurate.models.aesthetic_head import build_head, load_head
from vidcurate.models.device import pick_device, pick_dtype, valid_device
from vidcurate.models.imageprep import ImagePrep
from vidcurate.models.randomclip import save_random_clip, save_random_head, tiny_tokenizer
from vidcurate.models.resolve import WeightsMissing, model_dir, weight_file
from vidcurate.models.textchunks import chunk_ids, pack, sentences, truncated_ids

LONG = " ".join(f"the {w} and the cat sat in the sun number {i}." for i, w in enumerate(["dog", "fox", "owl"] * 4))


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


def _fake_hf_cache(cache: Path, repo_id: str, source: Path) -> Path:
    """The hub cache layout: models--org--name/refs/main -> snapshots/<commit>/files."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in source.iterdir():
        (snap / f.name).write_bytes(f.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snap


def test_local_directory_resolves_to_itself(clip_dir: Path) -> None:
    assert model_dir(str(clip_dir), what="CLIP") == clip_dir


def test_hf_id_resolves_from_the_local_cache_only(clip_dir: Path, tmp_path: Path, monkeypatch) -> None:
    snap = _fake_hf_cache(tmp_path / "hub", "someone/tiny-clip", clip_dir)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert model_dir("someone/tiny-clip", what="CLIP") == snap


def test_missing_hf_id_says_which_weights_and_how_to_provide_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsMissing) as err:
        model_dir("openai/clip-vit-large-patch14", what="CLIP")
    message = str(err.value)
    assert "openai/clip-vit-large-patch14" in message
    assert "hf download openai/clip-vit-large-patch14" in message
    assert str(tmp_path / "empty") in message
    assert isinstance(err.value, ConfigError)


def test_bare_names_are_found_under_vidcurate_models(clip_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIDCURATE_MODELS", str(clip_dir.parent))
    assert model_dir("tiny-clip", what="CLIP") == clip_dir


def test_directory_without_weights_is_reported_incomplete(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(WeightsMissing, match="lack a weight file"):
        model_dir(str(tmp_path), what="CLIP")


def test_single_weight_file_from_path_or_hf_cache(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "src").mkdir()
    head = save_random_head(tmp_path / "src" / "head.pth")
    assert weight_file(str(head), what="head") == head
    _fake_hf_cache(tmp_path / "hub", "someone/heads", head.parent)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert weight_file("someone/heads/head.pth", what="head").read_bytes() == head.read_bytes()
    with pytest.raises(WeightsMissing, match="hf download someone/heads other.pth"):
        weight_file("someone/heads/other.pth", what="head")


def test_device_and_dtype_choice_on_cpu() -> None:
    device = pick_device("auto")
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_dtype("auto", torch.device("cpu")) == torch.float32
    assert pick_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
    assert valid_device("cuda:1") and valid_device("cpu") and not valid_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_asking_for_cuda_without_one_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        pick_device("cuda")


def test_preprocessing_matches_clip_image_processor_at_native_size(clip_dir: Path) -> None:
    from transformers import CLIPImageProcessorPil

    prep = ImagePrep.from_dir(clip_dir)
    assert (prep.short_side, prep.crop_width, prep.crop_height) == (32, 32, 32)
    frame = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    ref = CLIPImageProcessorPil.from_pretrained(clip_dir)(images=[frame], return_tensors="pt")["pixel_values"]
    ours = prep.to_tensor(prep.crop(frame)[None], torch.device("cpu"), torch.float32)
    assert torch.allclose(ref, ours, atol=1e-5)


def test_preprocessing_resizes_small_and_large_frames_to_the_crop() -> None:
    prep = ImagePrep()
    for shape in [(90, 160, 3), (180, 320, 3), (224, 398, 3), (720, 1280, 3), (320, 180, 3)]:
        assert prep.crop(np.zeros(shape, np.uint8)).shape == (224, 224, 3)


def test_sentences_split_after_terminal_punctuation() -> None:
    assert sentences("A cat. A dog!  Why? done; end") == ["A cat.", "A dog!", "Why?", "done;", "end"]


def test_long_text_is_chunked_without_losing_tokens() -> None:
    tok = tiny_tokenizer()
    full = tok.encode(LONG, add_special_tokens=False)
    chunks = chunk_ids(tok, LONG, 77)
    assert len(full) > 75 and len(chunks) >= 2
    assert all(len(c) <= 75 for c in chunks)
    assert [i for c in chunks for i in c] == full
    assert truncated_ids(tok, LONG, 77) == [full[:75]]


def test_overlong_sentence_is_cut_at_word_ends() -> None:
    tok = tiny_tokenizer()
    text = " ".join(["running"] * 40)
    chunks = chunk_ids(tok, text, 20)
    assert all(len(c) <= 18 for c in chunks)
    for chunk in chunks:
        assert tok.convert_ids_to_tokens(chunk)[-1].endswith("</w>")


def test_pack_adds_start_and_end_tokens_and_pads() -> None:
    tok = tiny_tokenizer()
    ids, mask = pack(tok, [[1, 2], [3]], 8)
    assert ids.shape == (2, 8) and mask.sum(axis=1).tolist() == [4, 3]
    assert ids[0, :4].tolist() == [tok.bos_token_id, 1, 2, tok.eos_token_id]


@pytest.mark.parametrize("relu", [False, True])
def test_head_loads_the_published_state_dict_layout(tmp_path: Path, relu: bool) -> None:
    path = save_random_head(tmp_path / "head.pth", relu=relu)
    keys = set(torch.load(path, weights_only=True))
    linear = (0, 3, 6, 9, 11) if relu else (0, 2, 4, 6, 7)
    assert keys == {f"layers.{i}.{p}" for i in linear for p in ("weight", "bias")}
    head = load_head(path, input_dim=768)
    x = torch.nn.functional.normalize(torch.randn(4, 768), dim=-1)
    assert head(x).shape == (4, 1)


def test_linear_head_is_one_affine_map(tmp_path: Path) -> None:
    head = load_head(save_random_head(tmp_path / "head.safetensors"))
    x = torch.randn(3, 768)
    with torch.inference_mode():
        assert torch.allclose(head(x).mean(), head(x.mean(0, keepdim=True)).squeeze(), atol=1e-5)


def test_head_with_other_layout_or_width_is_refused(tmp_path: Path) -> None:
    torch.save(torch.nn.Sequential(torch.nn.Linear(4, 1)).state_dict(), tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not an improved-aesthetic-predictor head"):
        load_head(tmp_path / "bad.pth")
    torch.save(build_head(512).state_dict(), tmp_path / "b16.pth")
    with pytest.raises(ValueError, match="512-d"):
        load_head(tmp_path / "b16.pth", input_dim=768)


def test_random_clip_checkpoint_looks_like_a_real_one(clip_dir: Path) -> None:
    config = json.loads((clip_dir / "config.json").read_text())
    assert config["projection_dim"] == 768
    assert {"model.safetensors", "tokenizer.json", "preprocessor_config.json"} <= {p.name for p in clip_dir.iterdir()}
