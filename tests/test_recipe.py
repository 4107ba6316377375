"""Recipes are validated before any media is opened; errors name the file, line, op and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidcurate import recipe
from vidcurate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


MODEL_RECIPES = ("full.yaml", "opensora_v1_2.yaml")


@pytest.fixture()
def tiny_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Random-weight CLIP and aesthetic head where users put theirs ($VIDCURATE_MODELS), under the real names."""
    from vidcurate.models.randomclip import save_random_clip, save_random_head
    from vidcurate.ops.aesthetic import HEAD_NAME

    home = tmp_path / "models"
    save_random_clip(home / "openai" / "clip-vit-large-patch14")
    save_random_head(home / HEAD_NAME)
    monkeypatch.setenv("VIDCURATE_MODELS", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    return home


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")))
def test_shipped_recipes_validate_or_name_their_missing_weights(name: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDCURATE_MODELS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    if name in MODEL_RECIPES:
        with pytest.raises(ConfigError, match=r"recipes/.*\.yaml:\d+: op 'aesthetic': key 'head'.*not on this machine"):
            recipe.load(ROOT / "recipes" / name)
    else:
        assert recipe.load(ROOT / "recipes" / name).ops


@pytest.mark.parametrize("name", MODEL_RECIPES)
def test_model_recipes_validate_once_weights_are_provided(name: str, tiny_weights: Path) -> None:
    assert recipe.load(ROOT / "recipes" / name).ops


def test_opensora_recipe_runs_end_to_end_with_tiny_weights_and_a_model_process(
    tiny_weights: Path, samples: tuple[Path, dict], tmp_path: Path
) -> None:
    """The aesthetic op runs as a model stage in a process of its own (workers=1: one CPU worker + one model)."""
    from vidcurate.exec import local
    from vidcurate.ingest import scan_folder

    spec = recipe.load(ROOT / "recipes" / "opensora_v1_2.yaml")
    rows = [r for r in scan_folder(samples[0]) if r["relpath"] in ("cuts/three_cuts.mp4", "broken/empty.mp4")]
    out = local.run(rows, recipe.resolve_paths(spec.ops, tmp_path / "out"), tmp_path / "out", workers=1)
    scenes = [r for r in out if r.get("source_id")]
    assert not any(k.startswith("_frames") for r in out for k in r), "transport columns are removed"
    timings = json.loads((tmp_path / "out" / "run.json").read_text())["timings"]["stages"]
    [model] = [t for t in timings if t["kind"] == "model"]
    assert model["stage"] == "aesthetic" and model["model_items"] >= 4 and model["model_batches"] >= 1
    assert len(scenes) == 4 and all(isinstance(r.get("aes"), float) for r in scenes)
    assert all((r.get("drop_reason") == "select: aes >= 5") == (r["aes"] < 5) for r in scenes)
    assert [r["relpath"] for r in out if r.get("error")] == ["broken/empty.mp4"]


def test_unknown_op_names_the_line() -> None:
    text = "ops:\n  - probe: {}\n  - teleport: {}\n"
    with pytest.raises(ConfigError, match=r"<recipe>:3: unknown op 'teleport'"):
        recipe.parse(text)


def test_unknown_key_names_the_op_key_and_its_line() -> None:
    text = "ops:\n  - probe: {}\n  - select:\n      where: 'fps > 1'\n      wher: 'x'\n"
    with pytest.raises(ConfigError, match=r"<recipe>:5: op 'select': unknown key 'wher'"):
        recipe.parse(text)


def test_bad_value_type_names_op_and_key() -> None:
    with pytest.raises(ConfigError, match=r":2: op 'probe': key 'exact_frames': expected bool"):
        recipe.parse("ops:\n  - probe: {exact_frames: 'yes please'}\n")


def test_unknown_top_level_key_and_bad_workers_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown key 'opps'"):
        recipe.parse("opps: []\n")
    with pytest.raises(ConfigError, match="'workers' must be a positive integer"):
        recipe.parse("workers: 0\nops:\n  - probe: {}\n")


def test_invalid_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        recipe.parse("ops: [probe: {\n")


def test_full_recipe_runs_aesthetic_before_the_cut_and_match_after_it_in_two_model_processes(
    tiny_weights: Path, samples: tuple[Path, dict], tmp_path: Path
) -> None:
    from vidcurate import api, manifest

    root = samples[0]
    captions = {"camera/pan_left.mp4": "a textured wall pans left", "motion/fast.mp4": "things move fast"}
    src = manifest.write([{"path": str(root / rel), "id": rel.replace("/", "_"), "text": text}
                          for rel, text in captions.items()], tmp_path / "in.parquet")
    text = (ROOT / "recipes" / "full.yaml").read_text().replace("aes >= 4.5", "aes >= -100").replace(
        "match >= 20", "match >= -100").replace("min_seconds: 2.0", "min_seconds: 0.5")
    result = api.run(recipe.parse(text), src, tmp_path / "out", workers=1)
    rows = manifest.read(result.manifest)
    kept = [r for r in rows if not r.get("error") and not r.get("drop_reason")]
    assert kept and all(isinstance(r["aes"], float) and isinstance(r["match"], float) for r in kept)
    assert all(r["path"] != r["source_path"] and Path(r["path"]).is_file() for r in kept), "match scored the clips"
    stages = json.loads((tmp_path / "out" / "run.json").read_text())["timings"]["stages"]
    assert [s["stage"] for s in stages if s["kind"] == "model"] == ["aesthetic", "match"]
    assert (tmp_path / "out" / "train.csv").is_file() and result.outputs["export"] == tmp_path / "out" / "train.csv"


def test_a_shipped_recipe_loads_by_name_and_overrides_are_validated() -> None:
    default = recipe.load("default")
    assert default.name == "default" and default.path == recipe.SHIPPED / "default.yaml"
    changed = recipe.load("default", ["select#2.where=flow >= 1", "cut.crf=30", "scenes.max_seconds=null"])
    ops = dict(enumerate(changed.ops))
    assert [p["where"] for n, p in ops.values() if n == "select"][1] == "flow >= 1"
    assert [p for n, p in ops.values() if n == "cut"][0]["crf"] == 30
    assert [p for n, p in ops.values() if n == "scenes"][0]["max_seconds"] is None
    with pytest.raises(ConfigError, match="2 'select' ops; say which with select#1.where .. select#2.where"):
        recipe.load("default", ["select.where=flow >= 1"])
    with pytest.raises(ConfigError, match="op 'cut': key 'crf': must be 0..51"):
        recipe.load("default", ["cut.crf=99"])
    with pytest.raises(ConfigError, match="has no op 'teleport'"):
        recipe.load("default", ["teleport.speed=1"])
    with pytest.raises(ConfigError, match="shipped recipes are default, full, opensora_v1_2"):
        recipe.load("defualt")


def test_the_recipes_command_lists_every_shipped_recipe_and_whether_it_can_run() -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app

    out = CliRunner().invoke(app, ["recipes"], terminal_width=250)
    assert out.exit_code == 0, out.output
    assert all(name in out.output for name in ("default", "full", "opensora_v1_2"))
