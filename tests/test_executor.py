"""Local executor: errors are rows, --strict re-raises, shards resume, a killed run ends identical, model
stages batch across rows, set up only where they run, and a crashing row is isolated."""

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
from vidcurate.exec import apply, core, local
from vidcurate.exec.plan import plan_specs
from vidcurate.ops import load_all
from vidcurate.ops.base import build

PLUGIN = str(Path(__file__).with_name("opsfortests.py"))


@pytest.fixture(autouse=True)
def test_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test ops here and in every worker process (through $VIDCURATE_OPS)."""
    monkeypatch.setenv("VIDCURATE_OPS", PLUGIN)
    load_all()


ROWS = [{"id": "ok", "path": "a"}, {"id": "bad", "path": "b"}, {"id": "two", "path": "c"}]


def test_op_exception_becomes_error_row_and_run_goes_on(tmp_path: Path) -> None:
    out = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=2, workers=0)
    assert [r["id"] for r in out] == ["ok", "bad", "two_0", "two_1"]
    assert out[1]["error"] == "test_explode: RuntimeError: boom on purpose"
    assert out[0]["seen"] is True


def test_strict_reraises(tmp_path: Path) -> None:
    try:
        with pytest.raises(RuntimeError, match="boom"):
            local.run(ROWS, [("test_explode", {})], tmp_path / "w", strict=True, workers=0)
    finally:
        apply.set_strict(False)


def test_rows_with_errors_pass_later_ops_untouched() -> None:
    rows = [{"id": "ok", "error": "probe: X: y"}]
    assert apply.apply(build("test_explode"), rows) == rows


def test_a_different_run_in_the_same_folder_is_refused_unless_overwrite(tmp_path: Path) -> None:
    local.run(ROWS, [("test_explode", {})], tmp_path / "w", workers=0, label="one")
    with pytest.raises(ConfigError, match="different run"):
        local.run(ROWS[:1], [("test_explode", {})], tmp_path / "w", workers=0, label="two")
    assert len(local.run(ROWS[:1], [("test_explode", {})], tmp_path / "w", workers=0, label="two",
                         overwrite=True)) == 1


def test_finished_shards_are_not_recomputed(tmp_path: Path) -> None:
    first = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=1, workers=0)
    final = core.Run(plan_specs([("test_explode", {})]), tmp_path / "w")
    key = core.stage_key(core.rows_key(ROWS[:1]), final.stages[0])
    manifest.write([{"id": "marker", "path": "a"}], final.path(key))
    again = local.run(ROWS, [("test_explode", {})], tmp_path / "w", shard_size=1, workers=0)
    assert again[0]["id"] == "marker" and again[1:] == first[1:]


def _scene_rows(counts: dict[str, int]) -> list[dict]:
    return [{"id": name, "path": name, "scene_frames": [[10 * k, 10 * k + 10] for k in range(n)]}
            for name, n in counts.items()]


def test_a_batched_fan_out_op_maps_every_item_to_its_own_row_and_scene() -> None:
    rows = _scene_rows({"a": 1, "b": 4, "poison": 3, "c": 2, "d": 5})
    out = apply.apply(build("test_batched", {"batch_size": 3}), rows)
    assert [r["id"] for r in out] == ["a", "b", "poison", "c", "d"]
    for row in out:
        assert len(row["scene_scores"]) == len(row["scene_frames"])
        for k, scores in enumerate(row["scene_scores"]):
            if row["id"] == "poison" and k == 1:
                assert scores == {"error": "test_batched: ValueError: poisoned item"}
            else:
                assert scores["echo"] == f"{row['id']}/{k}" and scores["batch"] <= 3
        assert "error" not in row
    assert any(s.get("rows_in_batch", 0) > 1 for r in out for s in r["scene_scores"]), "batches span rows"


def test_a_batch_with_a_wrong_number_of_outputs_fails_its_items_instead_of_shifting_them() -> None:
    out = apply.apply(build("test_short"), [{"id": str(i), "path": "x"} for i in range(5)])
    assert len(out) == 5
    assert all(r["error"].startswith("test_short: RuntimeError: process_batch returned 0 outputs for 1 items")
               for r in out) and not any("x" in r for r in out)


def test_a_model_op_is_set_up_only_in_its_own_process(tmp_path: Path) -> None:
    record = tmp_path / "setups.txt"
    rows = _scene_rows({f"r{i}": 1 + i % 3 for i in range(12)})
    out = local.run(rows, [("test_segv", {}), ("test_batched", {"record": str(record)})], tmp_path / "w",
                    workers=2, shard_size=2)
    setups = record.read_text().split()
    assert len(setups) == 1
    model_pids = {s["model_pid"] for r in out for s in r["scene_scores"]}
    cpu_pids = {r["cpu_pid"] for r in out}
    assert model_pids == {int(setups[0])}
    assert model_pids.isdisjoint(cpu_pids) and os.getpid() not in model_pids | cpu_pids


def test_shards_waiting_for_a_busy_model_process_share_its_batches(tmp_path: Path) -> None:
    rows = _scene_rows({f"r{i}": 1 for i in range(10)})
    specs = [("test_segv", {}), ("test_batched", {"batch_size": 8, "delay": 0.3})]
    out = local.run(rows, specs, tmp_path / "w", workers=2, shard_size=1)
    assert [r["scene_scores"][0]["echo"] for r in out] == [f"r{i}/0" for i in range(10)]
    assert max(r["scene_scores"][0]["rows_in_batch"] for r in out) > 1, "one batch held several shards' rows"


def test_a_gpu_model_stage_gets_one_process_per_visible_device(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    record = tmp_path / "setups.txt"
    rows = [{"id": f"r{i}", "path": "x"} for i in range(8)]
    out = local.run(rows, [("test_explode", {}), ("test_on_gpu", {"record": str(record)})], tmp_path / "w",
                    workers=1, shard_size=1)
    setups = [line.split() for line in record.read_text().splitlines()]
    assert sorted(device for _, device in setups) == ["0", "1"] and len({pid for pid, _ in setups}) == 2
    assert {r["device"] for r in out} == {"0", "1"}, "both devices took shards"


def test_gpu_slots_share_or_span_devices() -> None:
    assert local.gpu_slots(1.0, ["0", "1"]) == ["0", "1"]
    assert local.gpu_slots(0.5, ["0", "1"]) == ["0", "0", "1", "1"]
    assert local.gpu_slots(2.0, ["0", "1", "2", "3"]) == ["0,1", "2,3"]
    assert local.gpu_slots(1.0, []) == [] and local.gpu_slots(0.0, ["0"]) == []


def test_a_segfault_on_one_row_gives_one_error_row_and_a_complete_manifest(tmp_path: Path) -> None:
    rows = [{"id": name, "path": name} for name in ["a", "b", "c", "segv", "d", "e", "f"]]
    out = local.run(rows, [("test_segv", {})], tmp_path / "w", workers=2, shard_size=3)
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    crashed = [r for r in out if r.get("error")]
    assert [(r["id"], r["error"]) for r in crashed] == [("segv", "test_segv: WorkerCrash: SIGSEGV")]
    assert all(r["survived"] for r in out if r["id"] != "segv")


def test_a_segfault_in_a_model_stage_marks_only_the_row_whose_item_crashed(tmp_path: Path) -> None:
    rows = [{"id": name, "path": name} for name in ["a", "b", "segv", "c", "d"]]
    out = local.run(rows, [("test_explode", {}), ("test_model_segv", {})], tmp_path / "w", workers=1, shard_size=2)
    assert [r["id"] for r in out] == ["a", "b", "segv", "c", "d"]
    assert [(r["id"], r.get("error")) for r in out if r.get("error")] == [
        ("segv", "test_model_segv: WorkerCrash: SIGSEGV")]
    assert all(r["scored"] and r["seen"] for r in out if r["id"] != "segv")


def test_a_failing_setup_is_a_configuration_error_before_any_shard_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="op 'test_bad_setup': setup failed: .*weights not found on purpose"):
        local.run(ROWS, [("test_explode", {}), ("test_bad_setup", {})], tmp_path / "w", workers=1, shard_size=1)
    assert len(list((tmp_path / "w" / "cache").glob("*.parquet"))) == len(ROWS), "only the input shards"


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


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_kill_9_or_ctrl_c_mid_run_then_rerun_gives_the_uninterrupted_manifest(tmp_path: Path, sig: int) -> None:
    from vidcurate.media.synth import generate_bulk

    src = tmp_path / "src"
    generate_bulk(src, 200)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(KILL_RECIPE)
    assert _run(recipe, src, tmp_path / "ref").wait(timeout=600) == 0
    proc = _run(recipe, src, tmp_path / "killed")
    cache = tmp_path / "killed" / "cache"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(cache.glob("*.parquet"))) < 140:
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    assert proc.wait(timeout=60) == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    done = len(list(cache.glob("*.parquet")))
    assert 100 < done < 300, "the kill must land mid-run (100 input shards, then 2 outputs per shard)"
    assert _run(recipe, src, tmp_path / "killed").wait(timeout=600) == 0
    ref = manifest.read(tmp_path / "ref" / "manifest.parquet")
    got = manifest.read(tmp_path / "killed" / "manifest.parquet")
    assert len(ref) == 200 and got == ref
    assert len({r["id"] for r in got}) == 200


def test_light_stages_are_recomputed_not_stored(tmp_path: Path) -> None:
    rows = [{"id": name, "path": name, "n": i} for i, name in enumerate(["a", "b", "c"])]
    specs = [("select", {"where": "n >= 1"}), ("test_explode", {}), ("select", {"where": "n >= 2"})]
    local.run(rows, specs, tmp_path / "w", workers=0, shard_size=3)
    run = core.Run(plan_specs(specs), tmp_path / "w", keys=[[core.rows_key(rows)]])
    for stage in run.stages:
        run.keys[0].append(core.stage_key(run.keys[0][-1], stage))
    assert [run.stored(0, k) for k in range(4)] == [True, False, True, True], "input, -, test_explode, last"
    assert len(list((tmp_path / "w" / "cache").glob("*.parquet"))) == 3
