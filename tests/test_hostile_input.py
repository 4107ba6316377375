"""Bad user input never writes among or over the inputs, nor outside the output folder by accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidcurate import api, manifest, recipe
from vidcurate.errors import ConfigError
from vidcurate.media.synth import generate_bulk

PROBE = "name: p\nops:\n  - probe: {}\n"


def test_an_output_folder_inside_the_input_folder_is_refused(tmp_path: Path) -> None:
    generate_bulk(tmp_path / "in", 2)
    for out in (tmp_path / "in", tmp_path / "in" / "out"):
        with pytest.raises(ConfigError, match="inside the input folder"):
            api.run(recipe.parse(PROBE), tmp_path / "in", out, workers=0)
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["bulk_00000.mp4", "bulk_00001.mp4"]


def test_a_run_never_reads_its_own_manifest_as_input(tmp_path: Path) -> None:
    generate_bulk(tmp_path / "in", 2)
    first = api.run(recipe.parse(PROBE), tmp_path / "in", tmp_path / "out", workers=0)
    before = manifest.read(first.manifest)
    with pytest.raises(ConfigError, match="own manifest"):
        api.run(recipe.parse(PROBE), first.manifest, tmp_path / "out", workers=0)
    assert manifest.read(first.manifest) == before


@pytest.mark.parametrize(("op", "key", "value"), [("cut", "save_dir", "../../clips"), ("export", "path", "../x.csv"),
                                                  ("report", "path", "../../r.html")])
def test_a_recipe_path_that_leaves_the_output_folder_is_refused(tmp_path: Path, op: str, key: str,
                                                                value: str) -> None:
    with pytest.raises(ConfigError, match=f"op '{op}': key '{key}': .* leaves the output folder"):
        recipe.resolve_paths([(op, {key: value})], tmp_path / "out")
    inside = recipe.resolve_paths([(op, {key: "sub/" + Path(value).name})], tmp_path / "out")
    assert inside[0][1][key] == str((tmp_path / "out" / "sub" / Path(value).name).resolve())
    absolute = recipe.resolve_paths([(op, {key: str(tmp_path / Path(value).name)})], tmp_path / "out")
    assert absolute[0][1][key] == str(tmp_path / Path(value).name)


def test_export_never_overwrites_its_input_and_needs_overwrite_for_an_existing_destination(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app

    rows = [{"id": "a", "path": "/x.mp4", "error": "probe: E: x"}, {"id": "b", "path": "/y.mp4", "flow": 1.0}]
    src = manifest.write(rows, tmp_path / "m.parquet")
    same = CliRunner().invoke(app, ["export", str(src), "--format", "parquet", "-o", str(src)])
    assert same.exit_code == 2 and manifest.read(src) == rows
    holder = CliRunner().invoke(app, ["export", str(src), "--format", "hf", "-o", str(tmp_path)])
    assert holder.exit_code == 2 and not (tmp_path / "README.md").exists()
    dest = tmp_path / "d.parquet"
    dest.write_text("mine")
    refused = CliRunner().invoke(app, ["export", str(src), "-o", str(dest)])
    assert refused.exit_code == 2 and "--overwrite" in refused.output and dest.read_text() == "mine"
    assert CliRunner().invoke(app, ["export", str(src), "-o", str(dest), "--overwrite"]).exit_code == 0
    assert [r["id"] for r in manifest.read(dest)] == ["b"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"path,path\na,b\n", "column 'path' appears more than once"),
    (b"id\nx\n", "has no `path` column"),
])
def test_broken_csv_manifests_are_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    from vidcurate.ingest import read_input

    bad = tmp_path / "meta.csv"
    bad.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        list(read_input(bad))


def test_utf16_and_bom_csv_are_read_and_relative_paths_resolve_against_the_manifest(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    from vidcurate.ingest import read_input

    folder = tmp_path / "data"
    generate_bulk(folder / "videos", 1)
    (folder / "u16.csv").write_text("path\nvideos/bulk_00000.mp4\n", encoding="utf-16")
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbfpath\nvideos/bulk_00000.mp4\n")
    monkeypatch.chdir(tmp_path)
    for name in ("u16.csv", "bom.csv"):
        [row] = list(read_input(folder / name))
        assert row["path"] == str(folder / "videos" / "bulk_00000.mp4") and row["relpath"] == "videos/bulk_00000.mp4"
        assert row["id"].startswith("bulk_00000-")


def test_a_step_never_writes_over_its_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app

    rows = [{"id": "a", "path": "/x.mp4", "fps": 60.0}]
    src = manifest.write(rows, tmp_path / "m.jsonl")
    result = CliRunner().invoke(app, ["select", str(src), "-o", str(src), "--fpsmax", "30"])
    assert result.exit_code == 2 and "is the input manifest" in " ".join(result.output.split())
    assert manifest.read(src) == rows


@pytest.mark.parametrize("fmt", ["webdataset", "hf"])
def test_an_export_with_a_missing_clip_writes_nothing(tmp_path: Path, fmt: str) -> None:
    from vidcurate.export import export

    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    rows = [{"id": "a", "path": str(clip)}, {"id": "b", "path": str(tmp_path / "gone.mp4")}]
    with pytest.raises(ConfigError, match="1 clip file\\(s\\) missing, e.g. .*gone.mp4 .*nothing was written"):
        export(rows, fmt, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_folder_scan_says_what_it_skipped_and_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from vidcurate.ingest import scan_folder

    generate_bulk(tmp_path, 1)
    (tmp_path / "x.mp4").mkdir()
    for name in ("a.m4a", "b.m4a", ".hidden.mp4", "notes"):
        (tmp_path / name).write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="vidcurate"):
        rows = scan_folder(tmp_path)
    assert [r["relpath"] for r in rows] == ["bulk_00000.mp4"]
    message = caplog.records[-1].getMessage()
    assert "1 videos; skipped 2 *.m4a" in message and "1 a folder named like a video" in message
    assert "1 a hidden file" in message and "1 *(no extension)" in message
