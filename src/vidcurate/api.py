"""The Python API: run a recipe end to end, as `vidcurate run` does.

```python
import vidcurate
result = vidcurate.run("recipes/default.yaml", "raw/", "out/", workers=2)
print(result.manifest, result.outputs["report"])
```
The CLI is a thin layer over this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidcurate import ingest
from vidcurate import recipe as recipes
from vidcurate.columns import catalogue
from vidcurate.errors import ConfigError
from vidcurate.exec import core
from vidcurate.exec.plan import plan_specs, sinks
from vidcurate.exec.progress import Observer
from vidcurate.ops.base import build
from vidcurate.ops.select import check_selects
from vidcurate.rows import Row

MANIFEST = "manifest.parquet"


@dataclass
class RunResult:
    """Where a run's outputs are."""

    manifest: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    rows_in: int = 0


def run(recipe: str | Path | recipes.Recipe, input: str | Path | None = None, output: str | Path | None = None, *,
        workers: int | None = None, shard_size: int | None = None, overwrite: bool = False, strict: bool = False,
        executor: str = "local", observer: Observer | None = None) -> RunResult:
    """Run a recipe (a path or a parsed `Recipe`) over a folder of videos or a manifest into `output`.

    Rerunning into the same folder resumes after a crash and, after a parameter change, reuses every stage
    output the change does not affect. `workers`: CPU worker processes (default: the recipe's, else the CPU
    count; 0 runs in this process). Raises ConfigError, before any video is opened, on a bad recipe."""
    spec, src, dst = _endpoints(recipe, input, output)
    if dst is None:
        raise ConfigError("give an output folder (or 'output' in the recipe)")
    _check_folders(src, dst)
    if executor != "local":
        raise ConfigError(f"unknown executor {executor!r} (available: local)")
    counted = _Counted(ingest.read_input(src))
    specs = recipes.resolve_paths(spec.ops, dst.resolve())
    check_selects(specs, ingest.input_columns(src) | set(catalogue()))
    n = workers if workers is not None else spec.workers or os.cpu_count() or 1
    result = execute(counted, specs, dst, workers=n, shard_size=shard_size or spec.shard_size, strict=strict,
                     overwrite=overwrite, label=spec.name, input_name=str(src.resolve()), observer=observer)
    result.rows_in = counted.count
    return result


def _endpoints(recipe: str | Path | recipes.Recipe, input: str | Path | None,
               output: str | Path | None) -> tuple[recipes.Recipe, Path, Path | None]:
    """The recipe, and the input and output given here or in the recipe (the input is required)."""
    spec = recipe if isinstance(recipe, recipes.Recipe) else recipes.load(recipe)
    src = input if input is not None else spec.input
    dst = output if output is not None else spec.output
    if src is None:
        raise ConfigError("give an input (or 'input' in the recipe)")
    return spec, Path(src), Path(dst) if dst is not None else None


class _Counted:
    """An iterable of rows that counts what went through it (the input is streamed, never held)."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[Row]:
        for row in self.rows:
            self.count += 1
            yield row


@dataclass
class Plan:
    """What `run` would do, found without opening a video or writing anything (`run --dry-run`)."""

    stages: list[Any]
    sinks: list[str]
    rows: int
    shards: int
    shards_done: int
    stage_shards: list[int]
    """Per stage: the shards that would run it (the others are stored already, or done)."""
    video_seconds: float
    """Total `duration` of the input rows that have one (a probed manifest); 0 when none has."""
    rows_with_duration: int


def dry_run(recipe: str | Path | recipes.Recipe, input: str | Path | None = None, output: str | Path | None = None,
            *, shard_size: int | None = None) -> Plan:
    """Plan a run: the stages (and the ops fused into each scan), the shards, how many are already done in
    `output`, and the decode work known from the input; nothing is opened, claimed or written."""
    spec, src, dst = _endpoints(recipe, input, output)
    specs = recipes.resolve_paths(spec.ops, dst.resolve()) if dst else spec.ops
    stages = plan_specs(specs)
    seconds, with_duration, rows = 0.0, 0, _Counted(ingest.read_input(src))

    def measured() -> Iterator[Row]:
        nonlocal seconds, with_duration
        for row in rows:
            if isinstance(row.get("duration"), (int, float)):
                seconds += float(row["duration"])
                with_duration += 1
            yield row

    run_ = core.preview(stages, measured(), dst, shard_size or spec.shard_size)
    points = [run_.resume_point(k) if dst else 0 for k in range(run_.num_shards)]
    return Plan(stages=stages, sinks=[op.name for op in sinks(specs)], rows=rows.count, shards=run_.num_shards,
                shards_done=sum(1 for k in range(run_.num_shards) if dst and run_.done(k)),
                stage_shards=[sum(1 for p in points if p <= k) for k in range(len(stages))],
                video_seconds=seconds, rows_with_duration=with_duration)


def _check_folders(src: Path, dst: Path) -> None:
    """Refuse an output folder that is (or is inside) the input folder, and an input that is the output's own
    manifest: a run must never write among, or over, what it reads."""
    source, target = src.resolve(), dst.resolve()
    if src.is_dir() and (target == source or source in target.parents):
        raise ConfigError(f"output folder {dst} is inside the input folder {src}: clips and manifests would be "
                          "written among the inputs; choose an output folder outside it")
    if source == target / MANIFEST or target in source.parents and source.parent.name == core.CACHE:
        raise ConfigError(f"input {src} is this output folder's own manifest; write to another output folder")


def execute(rows: Iterable[Row], specs: list[tuple[str, dict[str, Any]]], out_dir: Path, *, workers: int,
            shard_size: int, strict: bool = False, overwrite: bool = False, label: str = "processing",
            input_name: str = "", observer: Observer | None = None, sinks: bool = True) -> RunResult:
    """Plan, shard, run with the local executor, merge into out_dir/manifest.parquet, then run the sinks
    (with `sinks`: the recipe's plus the report)."""
    from vidcurate.exec.local import LocalExecutor

    clock = _Phases()
    stages = plan_specs(specs)
    observer = observer or Observer()
    run_ = core.open_run(stages, rows, out_dir, shard_size, label=label, input_name=input_name or label,
                         overwrite=overwrite)
    clock.lap("plan")
    try:
        LocalExecutor(workers, strict=strict, observer=observer).execute(run_, specs)
    finally:
        observer.close()
    clock.lap("execute")
    path = core.merge(run_.final_paths(), out_dir / MANIFEST)
    core.collect_garbage(run_)
    clock.lap("merge")
    core.record_timings(out_dir, run_.timing_table(), clock.phases)
    outputs = write_sinks(specs, path, out_dir) if sinks else {}
    clock.lap("sinks")
    core.record_timings(out_dir, run_.timing_table(), clock.phases)
    core.unlock(out_dir)
    return RunResult(path, outputs)


class _Phases:
    """Wall seconds of the run's phases (plan, execute, merge, sinks) and the total."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self.last, 3)
        self.phases["total"] = round(now - self.start, 3)
        self.last = now


def write_sinks(specs: list[tuple[str, dict[str, Any]]], manifest_path: Path, out_dir: Path,
                report: bool = True) -> dict[str, Path]:
    """Run the recipe's dataset sinks (and the report, always) on the finished manifest."""
    found = sinks(specs)
    if report and not any(op.name == "report" for op in found):
        found.append(build("report"))  # type: ignore[arg-type]
    return {op.name: op.write(manifest_path, out_dir) for op in found}
