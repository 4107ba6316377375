"""Local executor: shards of rows through a process pool, each shard's output renamed into place when done.

Resume: rerun the same command after a crash or kill -9; finished shards are skipped and the final
manifest is identical to an uninterrupted run's. `run.json` records a fingerprint of the ops and inputs so
a different run cannot silently reuse the shards.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vidcurate import manifest
from vidcurate.errors import ConfigError
from vidcurate.exec import apply
from vidcurate.exec.plan import build_stages
from vidcurate.manifest import Row
from vidcurate.ops.base import Op

Specs = list[tuple[str, dict[str, Any]]]
_STAGES: list[Op] = []
_QUEUE: Any = None


def fingerprint(specs: Specs, rows: list[Row], shard_size: int) -> str:
    """Hash of what determines the output: the ops, their parameters, the input rows, the sharding."""
    blob = json.dumps({"ops": specs, "rows": rows, "shard_size": shard_size}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def _init(specs: Specs, strict: bool, queue: Any = None, threads: int = 0) -> None:
    """Worker start: build and set up the stages once; torch gets its share of the cores."""
    global _STAGES, _QUEUE
    apply.set_strict(strict)
    _STAGES = build_stages(specs)
    _QUEUE = queue
    for stage in _STAGES:
        stage.setup()
    if "torch" in sys.modules and threads:
        sys.modules["torch"].set_num_threads(threads)


def _run_shard(index: int, rows: list[Row], shard_path: str) -> int:
    for number, stage in enumerate(_STAGES):
        rows = apply.apply(stage, rows)
        if _QUEUE is not None:
            _QUEUE.put((number, len(rows)))
    manifest.write(rows, shard_path)
    return len(rows)


def run(
    rows: list[Row],
    specs: Specs,
    workdir: str | Path,
    *,
    workers: int = 1,
    shard_size: int = 8,
    strict: bool = False,
    overwrite: bool = False,
    label: str = "processing",
) -> list[Row]:
    """Process rows through the ops in shards under workdir and return the merged output rows."""
    workdir = Path(workdir)
    build_stages(specs)
    shards = [rows[i : i + shard_size] for i in range(0, len(rows), shard_size)]
    stamp = {"fingerprint": fingerprint(specs, rows, shard_size), "num_shards": len(shards), "name": label,
             "ops": specs, "rows_in": len(rows)}
    _claim(workdir, stamp, overwrite)
    shard_dir = workdir / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    paths = [shard_dir / f"{i:05d}.parquet" for i in range(len(shards))]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    stage_names = [str(s) if s.name == "scan" else s.name for s in build_stages(specs)]
    with _progress() as bar:
        task = bar.add_task(f"{label}: shards", total=len(shards), completed=len(shards) - len(todo))
        stage_tasks = [bar.add_task(f"  {name}: rows out", total=None) for name in stage_names]
        if workers <= 1 or len(todo) <= 1:
            queue: Any = _Direct(bar, stage_tasks)
            _init(specs, strict, queue)
            for i in todo:
                _run_shard(i, shards[i], str(paths[i]))
                bar.advance(task)
        else:
            ctx = multiprocessing.get_context("spawn")
            n = min(workers, len(todo))
            threads = max(1, (os.cpu_count() or 1) // n)
            with ctx.Manager() as manager:
                queue = manager.Queue()
                drain = _Drain(queue, bar, stage_tasks)
                drain.start()
                with ProcessPoolExecutor(n, ctx, _init, (specs, strict, queue, threads)) as pool:
                    futures = [pool.submit(_run_shard, i, shards[i], str(paths[i])) for i in todo]
                    for fut in as_completed(futures):
                        fut.result()
                        bar.advance(task)
                queue.put(None)
                drain.join()
    tables = [pq.read_table(p) for p in paths]
    return manifest.table_to_rows(manifest.concat_tables(tables)) if tables else []


def _claim(workdir: Path, stamp: dict[str, Any], overwrite: bool) -> None:
    marker = workdir / "run.json"
    if marker.exists():
        old = json.loads(marker.read_text())
        if old.get("fingerprint") == stamp["fingerprint"]:
            return
        if not overwrite:
            raise ConfigError(
                f"{workdir} holds the shards of a different run (other ops, parameters or inputs); "
                "pass --overwrite to discard them or choose another output folder"
            )
        shutil.rmtree(workdir / "shards", ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(f".run.json.{os.getpid()}")
    tmp.write_text(json.dumps(stamp))
    os.replace(tmp, marker)


class _Direct:
    """In-process stand-in for the progress queue."""

    def __init__(self, bar: Progress, tasks: list[Any]) -> None:
        self.bar, self.tasks = bar, tasks

    def put(self, item: tuple[int, int]) -> None:
        self.bar.advance(self.tasks[item[0]], item[1])


class _Drain(threading.Thread):
    """Moves per-stage row counts from worker processes onto the progress bars."""

    def __init__(self, queue: Any, bar: Progress, tasks: list[Any]) -> None:
        super().__init__(daemon=True)
        self.queue, self.direct = queue, _Direct(bar, tasks)

    def run(self) -> None:
        while (item := self.queue.get()) is not None:
            self.direct.put(item)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
