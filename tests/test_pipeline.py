"""The fused pipeline end to end: one decode per source, select before cut, kill -9 and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from vidcurate import manifest, recipe
from vidcurate.columns import Column
from vidcurate.exec import local
from vidcurate.exec.plan import plan, plan_specs, run_rows
from vidcurate.ingest import scan_folder
from vidcurate.manifest import Row
from vidcurate.media import cut, decode
from vidcurate.ops.base import FrameOp, FrameSpec, build, output_names

RECIPE = """
name: pipeline-test
shard_size: 1
ops:
  - probe: {}
  - select: {where: "num_frames >= 16"}
  - scenes: {min_seconds: 0.5}
  - motion: {}
  - quality: {}
  - thumbnail: {}
  - split: {}
  - select: {where: "black_ratio < 0.5"}
  - cut: {save_dir: clips, preset: ultrafast}
"""


def _subset(samples: tuple[Path, dict], tmp: Path) -> Path:
    root, truth = samples
    keep = ["cuts/three_cuts.mp4", "cuts/fade.mp4", "motion/fast.mp4", "camera/pan_left.mp4",
            "quality/black_frozen.mp4", "broken/empty.mp4", "odd/rotated.mp4", "odd/vfr.mp4"]
    for rel in keep:
        dst = tmp / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(root / rel, dst)
    return tmp


def test_fused_run_decodes_each_source_once_and_cuts_only_kept_scenes(
    samples: tuple[Path, dict], tmp_path: Path
) -> None:
    src = _subset(samples, tmp_path / "src")
    spec = recipe.parse(RECIPE)
    rows = scan_folder(src)
    decode.DECODES.clear()
    cut.ENCODES.clear()
    out = local.run(rows, recipe.resolve_paths(spec.ops, tmp_path / "out"), tmp_path / "out", workers=0)
    readable = [r for r in rows if not r["relpath"].startswith("broken/")]
    assert sorted(decode.DECODES) == sorted(r["path"] for r in readable)
    assert set(decode.DECODES.values()) == {1}
    kept = [r for r in out if not r.get("error") and not r.get("drop_reason")]
    assert kept and all(Path(r["path"]).is_file() and r["path"] != r["source_path"] for r in kept)
    assert sum(cut.ENCODES.values()) == len(kept)
    black = [r for r in out if r.get("drop_reason", "").startswith("select: black_ratio")]
    assert black and all(r["path"] == r["source_path"] for r in black), "dropped scenes are never encoded"
    assert [r for r in out if r.get("error")] == [r for r in out if r["relpath"] == "broken/empty.mp4"]
    three = [r for r in out if r.get("source_id", "").startswith("three_cuts")]
    assert [(r["start_frame"], r["end_frame"]) for r in three] == [(0, 30), (30, 54), (54, 90), (90, 120)]


SCORERS = ["motion", "cmotion", "ocr", "quality", "nsfw", "face"]


def test_a_shot_detector_in_the_pass_makes_model_scorers_sample_every_scene(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    specs = [("probe", {}), ("scenes", {"min_seconds": 0.5}), ("face", {"rate": 4.0, "max_frames": 2})]
    [row] = run_rows(plan_specs(specs), [{"id": "x", "path": str(root / "cuts/three_cuts.mp4")}])
    assert row["num_frames"] == 120 and row["scene_frames"] == [[0, 30], [30, 54], [54, 90], [90, 120]]
    assert [s["face_frames"] for s in row["scene_scores"]] == [2, 2, 2, 2]


def test_each_scorer_gives_the_same_values_fused_as_alone(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    rows = [{"id": Path(p).stem, "path": str(root / p)} for p in ("camera/pan_left.mp4", "text/text.mp4",
                                                                  "quality/black_frozen.mp4", "odd/rotated.mp4")]
    fused = run_rows(plan_specs([(name, {}) for name in SCORERS]), [dict(r) for r in rows])
    assert not any(r.get("error") for r in fused)
    for name in SCORERS:
        alone = run_rows(plan_specs([(name, {})]), [dict(r) for r in rows])
        columns = output_names(build(name))
        assert [{c: r.get(c) for c in columns} for r in alone] == [{c: r.get(c) for c in columns} for r in fused]


class _SlowFinish(FrameOp):
    """Records the thread its finish runs on and waits for its partner, so the two finishes must overlap."""

    name = "test_slow_finish"
    produces: ClassVar[tuple[Column, ...]] = ()
    meeting: ClassVar[threading.Barrier] = threading.Barrier(2, timeout=10)

    def __init__(self, column: str, fail: bool = False) -> None:
        super().__init__()
        self.column, self.fail = column, fail

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt="gray", short_side=32, rate=1.0)

    def start(self, row: Row, spans: list | None) -> Any:
        return []

    def feed(self, state: Any, index: int, t: float, frame: np.ndarray) -> None:
        state.append(index)

    def finish(self, state: Any, row: Row, spans: list, times: list[float]) -> list[dict[str, Any]]:
        self.meeting.wait()
        if self.fail:
            raise ValueError("broken on purpose")
        return [{self.column: threading.current_thread().name} for _ in spans]


def test_ops_finish_on_parallel_threads_and_a_failing_one_marks_only_its_error(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    plan_ = plan([_SlowFinish("a"), _SlowFinish("b", fail=True)])
    [row] = run_rows(plan_, [{"id": "x", "path": str(root / "cuts/three_cuts.mp4")}])
    assert row["a"].startswith("vidcurate-finish")
    assert "b" not in row
    assert row["error"] == "test_slow_finish: ValueError: broken on purpose"


def _launch(recipe_file: Path, src: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vidcurate.cli", "run", str(recipe_file), "-i", str(src), "-o", str(out),
           "--workers", "2"]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _finished_clips(out: Path) -> list[Path]:
    """Clips renamed into place; a kill can leave a hidden temp file, which the rerun must remove."""
    return [p for p in (out / "clips").glob("*.mp4") if not p.name.startswith(".")]


def _relative(rows: list[dict], out: Path) -> list[dict]:
    return [{k: (v.replace(str(out), "OUT") if isinstance(v, str) else v) for k, v in r.items()} for r in rows]


def test_kill_9_then_rerun_matches_and_does_not_reencode_written_clips(
    samples: tuple[Path, dict], tmp_path: Path
) -> None:
    src = _subset(samples, tmp_path / "src")
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(RECIPE)
    assert _launch(recipe_file, src, tmp_path / "ref").wait(timeout=600) == 0
    killed = tmp_path / "killed"
    proc = _launch(recipe_file, src, killed)
    deadline = time.time() + 300
    while time.time() < deadline and len(_finished_clips(killed)) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in _finished_clips(killed)}
    assert before and not (killed / "manifest.parquet").exists(), "the kill must land mid-run"
    assert _launch(recipe_file, src, killed).wait(timeout=600) == 0
    after = {p.name: p.stat().st_mtime_ns for p in _finished_clips(killed)}
    assert all(after[name] == mtime for name, mtime in before.items()), "written clips were encoded again"
    assert not [p for p in (killed / "clips").iterdir() if p.name.startswith(".")], "no temp files left"
    ref = _relative(manifest.read(tmp_path / "ref" / "manifest.parquet"), tmp_path / "ref")
    got = _relative(manifest.read(killed / "manifest.parquet"), killed)
    assert got == ref
    assert sorted(after) == sorted(p.name for p in _finished_clips(tmp_path / "ref"))


def test_a_changed_select_threshold_reruns_with_zero_decodes_and_encodes_only_newly_kept_clips(
    samples: tuple[Path, dict], tmp_path: Path
) -> None:
    from vidcurate import api

    src = _subset(samples, tmp_path / "src")
    strict = RECIPE.replace('where: "black_ratio < 0.5"', 'where: "black_ratio < 0.5 and flow >= 1.5"')
    assert strict != RECIPE
    first = api.run(recipe.parse(strict), src, tmp_path / "out", workers=0)
    kept_before = {r["id"] for r in manifest.read(first.manifest) if not r.get("error") and not r.get("drop_reason")}
    decode.DECODES.clear()
    cut.ENCODES.clear()
    second = api.run(recipe.parse(RECIPE), src, tmp_path / "out", workers=0)
    kept_after = {r["id"] for r in manifest.read(second.manifest) if not r.get("error") and not r.get("drop_reason")}
    assert kept_before < kept_after, "the looser threshold keeps more scenes"
    assert sum(decode.DECODES.values()) == 0, "nothing is decoded again"
    assert sum(cut.ENCODES.values()) == len(kept_after - kept_before), "only the newly kept scenes are encoded"


def test_stage_timings_in_run_json_and_the_report_add_up_to_the_run(
    samples: tuple[Path, dict], tmp_path: Path
) -> None:
    import json

    from vidcurate import api

    src = _subset(samples, tmp_path / "src")
    decode.FRAMES.clear()
    result = api.run(recipe.parse(RECIPE), src, tmp_path / "out", workers=0)
    timings = json.loads((tmp_path / "out" / "run.json").read_text())["timings"]
    phases, stages = timings["phases"], timings["stages"]
    assert set(phases) == {"plan", "execute", "merge", "sinks", "total"}
    assert sum(v for k, v in phases.items() if k != "total") == pytest.approx(phases["total"], rel=0.1)
    assert sum(s["wall_s"] + s["setup_s"] for s in stages) == pytest.approx(phases["execute"], rel=0.1)
    assert [s["kind"] for s in stages] == ["row", "row", "scan", "row", "row", "row"]
    scan = stages[2]
    assert scan["frames"] == decode.FRAMES["decoded"] > 0 and scan["cpu_s"] > 0
    assert stages[0]["rows_in"] == len(scan_folder(src))
    assert stages[-1]["rows_out"] == len(manifest.read(result.manifest))
    assert "Where the time went" in result.outputs["report"].read_text()


def test_dry_run_plans_without_opening_a_video_and_sees_what_a_rerun_would_recompute(
    samples: tuple[Path, dict], tmp_path: Path
) -> None:
    from vidcurate import api

    src = _subset(samples, tmp_path / "src")
    decode.DECODES.clear()
    fresh = api.dry_run(recipe.parse(RECIPE), src, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not decode.DECODES
    assert [s.kind for s in fresh.stages] == ["row", "row", "scan", "row", "row", "row"]
    assert [op.name for op in fresh.stages[2].ops] == ["scenes", "motion", "quality", "thumbnail"]
    assert fresh.rows == 8 and fresh.shards == 8 and fresh.shards_done == 0 and fresh.stage_shards == [8] * 6
    api.run(recipe.parse(RECIPE), src, tmp_path / "out", workers=0)
    assert api.dry_run(recipe.parse(RECIPE), src, tmp_path / "out").stage_shards == [0] * 6
    retuned = api.dry_run(recipe.parse(RECIPE.replace("black_ratio < 0.5", "black_ratio < 0.4")), src,
                          tmp_path / "out")
    assert retuned.shards_done == 0 and retuned.stage_shards == [0, 0, 0, 8, 8, 8], "from the cached scan on"
