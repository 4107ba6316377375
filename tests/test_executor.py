"""Local executor: errors are rows, --strict re-raises, shards resume, a killed run ends identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidcurate import manifest
from vidcurate.errors import ConfigError
from vidcurate.exec import apply, local
from vidcurate.ops.base import Op, register


@register
class Explode(Op):
    """Test op: fails on rows whose id contains 'bad', fans out rows whose id contains 'two'."""

    name = "test_explode"

    def process(self, row: dict) -> dict | list[dict]:
        if "bad" in row["id"]:
            raise RuntimeError("boom on purpose")
        if "two" in row["id"]:
            return [{**row, "id": row["id"] + "_0"}, {**row, "id": row["id"] + "_1"}]
        row["seen"] = True
        return row


ROWS = [{"id": "ok", "path": "a"}, {"id": "bad", "path": "b"}, {"id": "two", "path": "c"}]


def test_op_exception_becomes_error_row_and_run_goes_on(tmp_path: Path) -> None:
    out = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=2)
    assert [r["id"] for r in out] == ["ok", "bad", "two_0", "two_1"]
    assert out[1]["error"] == "test_explode: RuntimeError: boom on purpose"
    assert out[0]["seen"] is True


def test_strict_reraises(tmp_path: Path) -> None:
    try:
        with pytest.raises(RuntimeError, match="boom"):
            local.run(ROWS, [("test_explode", {})], tmp_path / "w", strict=True)
    finally:
        apply.set_strict(False)


def test_rows_with_errors_pass_later_ops_untouched() -> None:
    rows = [{"id": "ok", "error": "probe: X: y"}]
    assert apply.apply(Explode(), rows) == rows


def test_a_different_run_in_the_same_folder_is_refused_unless_overwrite(tmp_path: Path) -> None:
    local.run(ROWS, [("test_explode", {})], tmp_path / "w")
    with pytest.raises(ConfigError, match="different run"):
        local.run(ROWS[:1], [("test_explode", {})], tmp_path / "w")
    assert len(local.run(ROWS[:1], [("test_explode", {})], tmp_path / "w", overwrite=True)) == 1


def test_finished_shards_are_not_recomputed(tmp_path: Path) -> None:
    first = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=1)
    shard = tmp_path / "w" / "shards" / "00000.parquet"
    manifest.write([{"id": "marker", "path": "a"}], shard)
    again = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=1)
    assert again[0]["id"] == "marker" and again[1:] == first[1:]


KILL_RECIPE = """
name: killtest
shard_size: 2
ops:
  - probe: {exact_frames: true}
  - select: {where: "num_frames >= 1"}
"""


def _run(recipe: Path, src: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vidcurate.cli", "run", str(recipe), "--input", str(src),
           "--output", str(out), "--workers", "2"]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_9_mid_run_then_rerun_gives_the_uninterrupted_manifest(tmp_path: Path) -> None:
    from vidcurate.media.synth import generate_bulk

    src = tmp_path / "src"
    generate_bulk(src, 200)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(KILL_RECIPE)
    assert _run(recipe, src, tmp_path / "ref").wait(timeout=600) == 0
    proc = _run(recipe, src, tmp_path / "killed")
    shards = tmp_path / "killed" / "shards"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(shards.glob("*.parquet"))) < 20:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(shards.glob("*.parquet")))
    assert 0 < done < 100, "the kill must land mid-run"
    assert _run(recipe, src, tmp_path / "killed").wait(timeout=600) == 0
    ref = manifest.read(tmp_path / "ref" / "manifest.parquet")
    got = manifest.read(tmp_path / "killed" / "manifest.parquet")
    assert len(ref) == 200 and got == ref
    assert len({r["id"] for r in got}) == 200
