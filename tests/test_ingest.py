"""`convert video`: folder scan with stable order and ids, extension filter, symlink loops, bad folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidcurate import manifest
from vidcurate.cli import app
from vidcurate.errors import ConfigError
from vidcurate.ingest import scan_folder


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_rows_are_sorted_and_ids_do_not_depend_on_creation_order(tmp_path: Path) -> None:
    for name in ["b/z.mp4", "a.MP4", "b/a.mkv", "notes.txt"]:
        _touch(tmp_path / "one" / name)
    for name in ["notes.txt", "b/a.mkv", "a.MP4", "b/z.mp4"]:
        _touch(tmp_path / "two" / name)
    one, two = scan_folder(tmp_path / "one"), scan_folder(tmp_path / "two")
    assert [r["relpath"] for r in one] == ["a.MP4", "b/a.mkv", "b/z.mp4"]
    assert [r["id"] for r in one] == [r["id"] for r in two]
    assert len({r["id"] for r in one}) == 3


def test_extensions_are_configurable(tmp_path: Path) -> None:
    _touch(tmp_path / "a.mp4")
    _touch(tmp_path / "b.webm")
    assert [r["relpath"] for r in scan_folder(tmp_path, extensions=["webm"])] == ["b.webm"]


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    _touch(tmp_path / "d/a.mp4")
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    assert [r["relpath"] for r in scan_folder(tmp_path)] == ["d/a.mp4"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder_is_skipped(tmp_path: Path) -> None:
    _touch(tmp_path / "ok/a.mp4")
    _touch(tmp_path / "locked/b.mp4")
    (tmp_path / "locked").chmod(0)
    try:
        assert [r["relpath"] for r in scan_folder(tmp_path)] == ["ok/a.mp4"]
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        scan_folder(tmp_path / "nope")


def test_convert_video_command_writes_open_sora_columns(tmp_path: Path) -> None:
    _touch(tmp_path / "v/a.mp4")
    result = CliRunner().invoke(app, ["convert", "video", str(tmp_path / "v"), "-o", str(tmp_path / "m.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.csv").read_text().splitlines()[0] == "path,id,relpath"
    assert manifest.read(tmp_path / "m.csv")[0]["relpath"] == "a.mp4"
