"""The executor-neutral run core: shards, per-stage fingerprints and the stage cache, the claim on the output
folder, and the streaming merge of shard outputs into the manifest.

Every (shard, stage) output has a key: the hash of the key before it (the shard's input rows for the first
stage), the stage's ops and parameters, and the package fingerprint (version plus a hash of its source, so
an upgrade never reuses stale outputs). Outputs live in `OUT/cache/<key>.parquet`, each written under a
temporary name and renamed when complete, so a killed run leaves only whole files. A rerun starts every
shard after its last stored key: an unchanged run does nothing, a changed `select` threshold reruns only
the stages from that select on, and a new `crf` only `cut`. Cheap row stages (`light` ops: select, split)
are recomputed rather than stored, unless a task boundary needs their output. Executors (local, Ray) only
run `Task`s and call back here; nothing in this module knows about processes.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import vidcurate
from vidcurate import manifest
from vidcurate.errors import ConfigError
from vidcurate.exec.plan import Stage
from vidcurate.rows import Row

CACHE = "cache"
MARKER = "run.json"


@cache
def package_fingerprint() -> str:
    """Version plus a hash of the package's source files: a code change invalidates every stored output."""
    root = Path(vidcurate.__file__).parent
    digest = hashlib.sha1(vidcurate.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def rows_key(rows: list[Row]) -> str:
    """Key of a shard's input rows."""
    blob = json.dumps(rows, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()


def stage_key(previous: str, stage: Stage) -> str:
    """Key of a stage's output given the key of its input."""
    blob = json.dumps([previous, stage.kind, stage.spec, package_fingerprint()], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


@dataclass
class Task:
    """Run stages `first..last` (inclusive) of one shard: read `source`, write each output in `store`."""

    shard: int
    first: int
    last: int
    source: Path
    store: dict[int, Path]
    kind: str

    @property
    def output(self) -> Path:
        return self.store[self.last]


@dataclass
class Run:
    """One run's shards and keys over an output folder."""

    stages: list[Stage]
    out_dir: Path
    keys: list[list[str]] = field(default_factory=list)
    """keys[shard][0]: the input; keys[shard][k + 1]: the output of stage k."""
    timings: dict[int, StageStats] = field(default_factory=dict)

    def path(self, key: str) -> Path:
        return self.out_dir / CACHE / f"{key}.parquet"

    def stored(self, shard: int, k: int) -> bool:
        return self.path(self.keys[shard][k]).exists()

    @property
    def num_shards(self) -> int:
        return len(self.keys)

    def done(self, shard: int) -> bool:
        return self.stored(shard, len(self.stages))

    def resume_point(self, shard: int) -> int:
        """Index into keys of the last stored output of the shard (0 = its input)."""
        return max(k for k in range(len(self.stages) + 1) if k == 0 or self.stored(shard, k))

    def tasks(self, shard: int, first: int) -> list[Task]:
        """Tasks for stages first.. of a shard: consecutive CPU stages (row, scan) form one task, each model
        stage a task of its own. A stage's output is stored when it is not light, ends a task, or ends the
        chain."""
        out: list[Task] = []
        k = first
        source = self.path(self.keys[shard][first])
        while k < len(self.stages):
            kind = "model" if self.stages[k].kind == "model" else "cpu"
            last = k
            while kind == "cpu" and last + 1 < len(self.stages) and self.stages[last + 1].kind != "model":
                last += 1
            store = {j: self.path(self.keys[shard][j + 1]) for j in range(k, last + 1)
                     if j == last or not self.stages[j].light}
            out.append(Task(shard, k, last, source, store, kind))
            source = store[last]
            k = last + 1
        return out

    def record_setup(self, k: int, seconds: float) -> None:
        """Time a process spent setting up stage k."""
        self.timings.setdefault(k, StageStats()).setup_s += seconds

    def record(self, result: TaskResult) -> None:
        """Add a finished task's stats to the run's per-stage totals."""
        for k, stats in result.stats.items():
            self.timings.setdefault(k, StageStats()).add(stats)
        for k, seconds in result.setup.items():
            self.record_setup(k, seconds)

    def timing_table(self) -> list[dict[str, Any]]:
        """Per stage (label, kind, ops) the summed stats of the tasks run in this invocation."""
        out = []
        for k, stage in enumerate(self.stages):
            stats = self.timings.get(k, StageStats())
            out.append({"stage": stage.label, "kind": stage.kind, **dataclasses.asdict(stats)})
            for key in ("wall_s", "cpu_s", "setup_s"):
                out[-1][key] = round(out[-1][key], 3)
        return out

    def final_paths(self) -> list[Path]:
        return [self.path(keys[-1]) for keys in self.keys]


def open_run(stages: list[Stage], rows: Iterable[Row], out_dir: Path, shard_size: int, *, label: str,
             input_name: str, overwrite: bool) -> Run:
    """Claim the output folder, store the input shards, and compute every shard's chain of keys."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lock(out_dir)
    claim(out_dir, label, input_name, overwrite)
    run = Run(stages, out_dir)
    (out_dir / CACHE).mkdir(exist_ok=True)
    for shard_rows in _chunks(rows, shard_size):
        chain = chain_keys(stages, shard_rows)
        if not run.path(chain[0]).exists():
            write_rows(shard_rows, run.path(chain[0]))
        run.keys.append(chain)
    marker = out_dir / MARKER
    info = json.loads(marker.read_text())
    info.update(num_shards=run.num_shards, stages=[s.label for s in stages], package=package_fingerprint(),
                ops=[[op.name, op.params()] for stage in stages for op in stage.ops])
    _write_json(marker, info)
    return run


def chain_keys(stages: list[Stage], shard_rows: list[Row]) -> list[str]:
    """The keys of a shard: its input's, then each stage's output's."""
    chain = [rows_key(shard_rows)]
    for stage in stages:
        chain.append(stage_key(chain[-1], stage))
    return chain


def preview(stages: list[Stage], rows: Iterable[Row], out_dir: Path | None, shard_size: int) -> Run:
    """The run `open_run` would start, without claiming, locking or writing anything: its shards' keys, and
    against an existing output folder what is stored already."""
    run = Run(stages, out_dir or Path("/nonexistent-vidcurate-output"))
    for shard_rows in _chunks(rows, shard_size):
        run.keys.append(chain_keys(stages, shard_rows))
    return run


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_LOCKS: dict[Path, Any] = {}


def lock(out_dir: Path) -> None:
    """Hold an exclusive lock on the output folder for the life of this process (released on any exit, even
    kill -9, by the kernel); a second run into the same folder is refused while the first is alive."""
    key = out_dir.resolve()
    if key in _LOCKS:
        return
    handle = (out_dir / ".lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(f"another vidcurate run is writing to {out_dir}; wait for it or choose another "
                          "output folder") from None
    _LOCKS[key] = handle


def unlock(out_dir: Path) -> None:
    """Release this process's lock on the output folder."""
    handle = _LOCKS.pop(out_dir.resolve(), None)
    if handle is not None:
        handle.close()


def claim(out_dir: Path, label: str, input_name: str, overwrite: bool) -> None:
    """Record which run owns the folder. The same recipe over the same input reuses every stored output it
    can (a re-tune); a different recipe or input is refused unless `overwrite`, which starts afresh."""
    marker = out_dir / MARKER
    if marker.exists():
        old = json.loads(marker.read_text())
        if overwrite:
            shutil.rmtree(out_dir / CACHE, ignore_errors=True)
        elif old.get("name") != label or old.get("input") != input_name:
            raise ConfigError(
                f"{out_dir} holds a different run (recipe {old.get('name')!r} over {old.get('input')!r}); "
                "pass --overwrite to discard it or choose another output folder"
            )
    _write_json(marker, {"name": label, "input": input_name})


def record_timings(out_dir: Path, stages: list[dict[str, Any]], phases: dict[str, float]) -> None:
    """Write this invocation's per-stage stats and phase times into run.json (`timings`)."""
    marker = out_dir / MARKER
    info = json.loads(marker.read_text())
    info["timings"] = {"phases": phases, "stages": stages}
    _write_json(marker, info)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def write_rows(rows: list[Row], path: Path) -> None:
    """A stage output, atomically (manifest.write renames a temp file into place)."""
    manifest.write(rows, path)


def read_rows(path: Path) -> list[Row]:
    return manifest.read(path)


@dataclass
class StageStats:
    """Where one stage's time went, summed over the tasks that ran it: wall and CPU seconds of the process
    running it (reading its input and storing its output included), seconds spent in its ops' `setup()` (once
    per process), rows, frames decoded by the shared decode pass, model batches and items."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    setup_s: float = 0.0
    rows_in: int = 0
    rows_out: int = 0
    frames: int = 0
    model_batches: int = 0
    model_items: int = 0
    tasks: int = 0

    def add(self, other: StageStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class TaskResult:
    """What a task reports back: rows out of its last stage, and each stage's stats."""

    rows_out: int
    stats: dict[int, StageStats] = field(default_factory=dict)
    setup: dict[int, float] = field(default_factory=dict)
    """Setup seconds of the worker that ran the task, reported once per worker (with its first task)."""


class _Meter:
    """Wall, CPU and this process's frame and model-call counters between two points."""

    def __init__(self) -> None:
        self.start = self._now()

    @staticmethod
    def _now() -> tuple[float, ...]:
        from vidcurate.exec.apply import MODEL_CALLS
        from vidcurate.media.decode import FRAMES

        return (time.perf_counter(), time.process_time(), FRAMES["decoded"], MODEL_CALLS["batches"],
                MODEL_CALLS["items"])

    def stats(self, rows_in: int, rows_out: int) -> StageStats:
        end = self._now()
        wall, cpu, frames, batches, items = (b - a for a, b in zip(self.start, end))
        return StageStats(wall, cpu, 0.0, rows_in, rows_out, int(frames), int(batches), int(items), 1)


def run_task(stages: list[Stage], task: Task) -> TaskResult:
    """Run a task's stages over its source rows, storing the outputs it names, measuring each stage."""
    meter = _Meter()
    rows = read_rows(task.source)
    result = TaskResult(0)
    for k in range(task.first, task.last + 1):
        rows_in = len(rows)
        rows = stages[k].run(rows)
        if k in task.store:
            write_rows(rows, task.store[k])
        result.stats[k] = meter.stats(rows_in, len(rows))
        meter = _Meter()
    result.rows_out = len(rows)
    return result


MERGE_ROW_GROUP = 8192
"""Rows per Parquet row group of the merged manifest: shards are small, and a row group per shard would make
the file's footer (and the writer's memory) grow with the number of shards."""


def run_group(stages: list[Stage], tasks: list[Task]) -> list[TaskResult]:
    """Run one model stage over several shards at once (its batches then gather items across shards); each
    shard's rows are stored as its own output. A model stage maps rows one to one. The group's stats go to
    its first task."""
    [k] = {t.first for t in tasks}
    assert all(t.last == k for t in tasks) and stages[k].kind == "model"
    meter = _Meter()
    parts = [read_rows(t.source) for t in tasks]
    out = stages[k].run([row for part in parts for row in part])
    if len(out) != sum(len(p) for p in parts):
        raise RuntimeError(f"model stage {stages[k].label} changed the number of rows")
    at = 0
    for task, part in zip(tasks, parts):
        write_rows(out[at:at + len(part)], task.output)
        at += len(part)
    results = [TaskResult(len(p)) for p in parts]
    results[0].stats[k] = meter.stats(len(out), len(out))
    return results


def merge(paths: list[Path], dest: Path) -> Path:
    """Concatenate shard outputs into one Parquet manifest with bounded memory (one row group at a time).

    Columns missing from a shard become nulls; a column that is JSON text in any shard, or whose types
    disagree across shards (other than ints with floats), becomes JSON text in all of them."""
    nested: set[str] = set()
    types: dict[str, set[pa.DataType]] = {}
    for path in paths:
        schema = pq.read_schema(path)
        nested |= manifest.json_columns(schema)
        for f in schema:
            found = types.setdefault(f.name, set())
            if not pa.types.is_null(f.type):
                found.add(f.type)
    for name, found in types.items():
        if len(found) > 1 and not all(pa.types.is_integer(x) or pa.types.is_floating(x) for x in found):
            nested.add(name)
    fields = [pa.field(name, _merged_type(found, name in nested)) for name, found in types.items()]
    schema = manifest.with_json_meta(pa.table({f.name: pa.array([], f.type) for f in fields}), nested).schema
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    pending: list[pa.Table] = []
    with pq.ParquetWriter(tmp, schema) as writer:
        for path in paths:
            table = pq.read_table(path)
            table = manifest.as_json_text(table, nested - manifest.json_columns(table))
            columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
                       else pa.nulls(len(table), f.type) for f in fields]
            pending.append(pa.Table.from_arrays(columns, schema=schema))
            if sum(len(t) for t in pending) >= MERGE_ROW_GROUP:
                writer.write_table(pa.concat_tables(pending))
                pending = []
        if pending or not paths:
            writer.write_table(pa.concat_tables(pending) if pending else schema.empty_table())
    os.replace(tmp, dest)
    return dest


def _merged_type(found: set[pa.DataType], nested: bool) -> pa.DataType:
    if nested:
        return pa.string()
    if not found:
        return pa.null()
    return next(iter(found)) if len(found) == 1 else pa.float64()


def collect_garbage(run: Run) -> int:
    """Remove stored outputs this run does not reference (earlier parameters, temp files of killed runs; the
    folder lock guarantees no other writer); the number removed."""
    keep = {f"{key}.parquet" for keys in run.keys for key in keys}
    removed = 0
    for path in (run.out_dir / CACHE).iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
