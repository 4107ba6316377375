"""Manifest I/O: formats round-trip, Open-Sora CSV columns survive unchanged, ids are stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidcurate import manifest
from vidcurate.errors import ConfigError

ROWS = [
    {"path": "/v/a.mp4", "id": "a-1", "relpath": "a.mp4", "num_frames": 10, "fps": 24.0,
     "scene_frames": [[0, 5], [5, 10]], "text": "a cat, sitting"},
    {"path": "/v/b.mp4", "id": "b-2", "relpath": "b.mp4", "error": "probe: ProbeError: empty file"},
]


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".jsonl"])
def test_every_format_round_trips_rows_including_json_columns(tmp_path: Path, ext: str) -> None:
    path = manifest.write(ROWS, tmp_path / f"m{ext}")
    back = manifest.read(path)
    assert back[0]["scene_frames"] == [[0, 5], [5, 10]]
    assert back[0]["num_frames"] == 10 and back[0]["text"] == "a cat, sitting"
    assert back[1]["error"].startswith("probe:") and "num_frames" not in back[1]


def test_open_sora_csv_keeps_its_column_names_and_values(tmp_path: Path) -> None:
    src = tmp_path / "meta.csv"
    src.write_text('path,id,relpath,num_frames,height,width,aspect_ratio,fps,resolution,text,aes\n'
                   '/d/x.mp4,x,x.mp4,51,720,1280,0.5625,24.0,921600,"a dog, running",5.2\n')
    rows = manifest.read(src)
    assert rows[0]["text"] == "a dog, running" and rows[0]["num_frames"] == 51
    out = manifest.write(rows, tmp_path / "out.csv")
    assert out.read_text().splitlines()[0] == src.read_text().splitlines()[0].replace(",", ",")
    assert manifest.read(out) == rows


def test_unknown_extension_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown extension"):
        manifest.write(ROWS, tmp_path / "m.xlsx")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    manifest.write(ROWS, tmp_path / "m.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["m.parquet"]


def test_stable_id_depends_only_on_relpath_and_is_file_name_safe() -> None:
    a = manifest.stable_id("sub dir/clip #1.mp4")
    assert a == manifest.stable_id("sub dir/clip #1.mp4")
    assert a != manifest.stable_id("other/clip #1.mp4")
    assert manifest.safe_name(a) == a and "/" not in a and " " not in a


def test_safe_name_strips_path_tricks() -> None:
    assert manifest.safe_name("../../etc/passwd") == "etc_passwd"
    assert manifest.safe_name("..") == ""
    assert manifest.safe_name("--fast-84258cd7_0") == "fast-84258cd7_0"
    assert "/" not in manifest.safe_name("a/b\\c:d")
