"""Local executor: the run core's tasks on this machine, with no server.

CPU tasks (row and scan stages of a shard) go to a pool of `workers` processes; each model stage gets a
dedicated process of its own, the only process that runs its `setup()` (so one copy of a model per stage,
on its device), and takes that stage's tasks as the CPU workers hand shards over, so decoding goes on while
a model works; shards that pile up while it is busy are handed to it together, so its batches fill.
`workers=0` runs everything in this process (scripts, tests; no crash isolation).

Crash isolation: when a worker process dies (a segfault in a decoder or a model), every task it may have been
running is retried alone in a fresh process; the task that dies again is rerun row by row, each row in a
process of its own that reports the stage it enters, so the crashing row gets
`error = "<stage>: WorkerCrash: <signal>"` and every other row completes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from vidcurate.errors import ConfigError
from vidcurate.exec import apply, core
from vidcurate.exec.plan import Stage, plan_specs
from vidcurate.exec.progress import Observer
from vidcurate.rows import Row, add_error

Specs = list[tuple[str, dict[str, Any]]]
MODEL_GROUP = 8
"""Shards a model process takes at once when several are waiting (its batches then span them)."""
_STAGES: list[Stage] = []
_SETUP_ERROR: str | None = None
_SETUP_TIMES: dict[int, float] = {}


def _init(specs: Specs, strict: bool, which: list[int], threads: int, slots: Any = None) -> None:
    """Worker start: take a GPU slot if the stage has them (before anything imports torch), plan the chain,
    set up only the stages this process runs."""
    global _STAGES, _SETUP_ERROR
    if slots is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = slots.get()
    apply.set_strict(strict)
    try:
        _STAGES = plan_specs(specs)
    except ConfigError as e:
        _SETUP_ERROR = str(e)
        return
    for k in which:
        start = time.perf_counter()
        _SETUP_ERROR = apply.setup_error([_STAGES[k]])
        _SETUP_TIMES[k] = time.perf_counter() - start
        if _SETUP_ERROR:
            return
    if "torch" in sys.modules and threads:
        sys.modules["torch"].set_num_threads(threads)


def _ready() -> int:
    """Raise the worker's setup failure, if any; else its pid."""
    if _SETUP_ERROR:
        raise ConfigError(_SETUP_ERROR)
    return os.getpid()


def _tasks(tasks: list[core.Task]) -> list[core.TaskResult]:
    _ready()
    results = [core.run_task(_STAGES, tasks[0])] if len(tasks) == 1 else core.run_group(_STAGES, tasks)
    results[0].setup.update(_SETUP_TIMES)
    _SETUP_TIMES.clear()
    return results


class LocalExecutor:
    """Runs a `core.Run` with a CPU process pool plus one process per model stage."""

    def __init__(self, workers: int = 1, *, strict: bool = False, observer: Observer | None = None) -> None:
        self.workers = workers
        self.strict = strict
        self.observer = observer or Observer()

    def execute(self, run: core.Run, specs: Specs) -> None:
        todo = {shard: run.resume_point(shard) for shard in range(run.num_shards) if not run.done(shard)}
        self.observer.started(run, len(todo))
        if not todo:
            return
        if self.workers <= 0:
            self._in_process(run, todo)
        else:
            self._pooled(run, specs, todo)

    def _in_process(self, run: core.Run, todo: dict[int, int]) -> None:
        apply.set_strict(self.strict)
        first = min(todo.values())
        for k in range(first, len(run.stages)):
            start = time.perf_counter()
            run.stages[k].setup()
            run.record_setup(k, time.perf_counter() - start)
        for shard, start in todo.items():
            for task in run.tasks(shard, start):
                result = core.run_task(run.stages, task)
                run.record(result)
                self.observer.task_done(task, result)
            self.observer.shard_done(shard)

    def _pooled(self, run: core.Run, specs: Specs, todo: dict[int, int]) -> None:
        workers = min(self.workers, len(todo))
        pools = _Pools(run.stages, specs, workers, self.strict, needed=_stages_needed(run, todo))
        self.remaining = {shard: run.tasks(shard, start) for shard, start in todo.items()}
        self.running: dict[Future, list[core.Task]] = {}
        self.waiting: dict[int, list[core.Task]] = {k: [] for k in pools.models}
        suspects: list[core.Task] = []
        try:
            pools.check_ready()
            for shard in self.remaining:
                self._ready(self.remaining[shard].pop(0), pools)
            while self.running or suspects:
                if suspects:
                    task = suspects.pop(0)
                    self._advance(task, _isolated(run, specs, task, self.strict), pools, run)
                    continue
                finished, _ = wait(self.running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    tasks = self.running.pop(fut)
                    try:
                        results = fut.result()
                    except BrokenProcessPool:
                        suspects.extend(tasks)
                        pools.restart(tasks[0])
                        results = None
                    if tasks[0].kind == "model":
                        self._dispatch(tasks[0].first, pools)
                    for task, result in zip(tasks, results or []):
                        self._advance(task, result, pools, run)
        except BaseException:
            pools.kill()
            raise
        finally:
            pools.shutdown()

    def _ready(self, task: core.Task, pools: _Pools) -> None:
        """A task whose input exists: CPU tasks go to the pool; model tasks wait to be grouped."""
        if task.kind == "cpu":
            self.running[pools.submit([task])] = [task]
            return
        self.waiting[task.first].append(task)
        self._dispatch(task.first, pools)

    def _dispatch(self, stage: int, pools: _Pools) -> None:
        """While the stage's model process is free, hand it every waiting shard (up to MODEL_GROUP) at once,
        so its batches fill across shards as well as across the rows of one."""
        busy = sum(1 for tasks in self.running.values() if tasks[0].kind == "model" and tasks[0].first == stage)
        queue = self.waiting[stage]
        while queue and busy < pools.replicas[stage]:
            group, queue[:] = queue[:MODEL_GROUP], queue[MODEL_GROUP:]
            self.running[pools.submit(group)] = group
            busy += 1

    def _advance(self, task: core.Task, result: core.TaskResult, pools: _Pools, run: core.Run) -> None:
        run.record(result)
        self.observer.task_done(task, result)
        if self.remaining[task.shard]:
            self._ready(self.remaining[task.shard].pop(0), pools)
        else:
            self.observer.shard_done(task.shard)


def _stages_needed(run: core.Run, todo: dict[int, int]) -> set[int]:
    first = min(todo.values())
    return set(range(first, len(run.stages)))


def visible_gpus() -> list[str]:
    """GPU ids this run may use: $CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists (torch is not
    imported in the main process for this); none on a machine without NVIDIA GPUs."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return [d.strip() for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    found = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                           timeout=30, check=False)
    return [line.strip() for line in found.stdout.splitlines() if line.strip()] if found.returncode == 0 else []


def gpu_slots(gpus: float, devices: list[str]) -> list[str]:
    """CUDA_VISIBLE_DEVICES value of each model process for a stage needing `gpus` per process: a share of
    one device (0.5: two processes per GPU), one device each, or several devices each (2: pairs)."""
    if gpus <= 0 or not devices:
        return []
    if gpus <= 1:
        return [d for d in devices for _ in range(max(1, int(1 / gpus)))]
    width = math.ceil(gpus)
    return [",".join(devices[i:i + width]) for i in range(0, len(devices) - width + 1, width)]


class _Pools:
    """The CPU pool and the model processes of each model stage (one per GPU slot, else one), each set up
    only for its own stages."""

    def __init__(self, stages: list[Stage], specs: Specs, workers: int, strict: bool, needed: set[int]) -> None:
        self.stages, self.specs, self.strict = stages, specs, strict
        self.workers = workers
        self.cpu_stages = [k for k in sorted(needed) if stages[k].kind != "model"]
        self.model_stages = [k for k in sorted(needed) if stages[k].kind == "model"]
        self.ctx = multiprocessing.get_context("spawn")
        devices = visible_gpus() if any(stages[k].resources.gpus > 0 for k in self.model_stages) else []
        self.slots = {k: gpu_slots(stages[k].resources.gpus, devices) for k in self.model_stages}
        self.replicas = {k: max(1, len(self.slots[k])) for k in self.model_stages}
        self.cpu: ProcessPoolExecutor | None = self._make("cpu") if self.cpu_stages else None
        self.models = {k: self._make(k) for k in self.model_stages}

    def _make(self, which: str | int) -> ProcessPoolExecutor:
        if which == "cpu":
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            return ProcessPoolExecutor(self.workers, self.ctx, _init, (self.specs, self.strict, self.cpu_stages,
                                                                        threads))
        assert isinstance(which, int)
        queue = None
        if self.slots[which]:
            queue = self.ctx.Queue()
            for slot in self.slots[which]:
                queue.put(slot)
        return ProcessPoolExecutor(self.replicas[which], self.ctx, _init, (self.specs, self.strict, [which], 0, queue))

    def pool_for(self, task: core.Task) -> ProcessPoolExecutor:
        pool = self.cpu if task.kind == "cpu" else self.models[task.first]
        assert pool is not None
        return pool

    def submit(self, tasks: list[core.Task]) -> Future:
        return self.pool_for(tasks[0]).submit(_tasks, tasks)

    def check_ready(self) -> None:
        """Every pool's setup succeeded, before the first shard (a failure is a ConfigError naming the op)."""
        calls = [self.cpu.submit(_ready)] if self.cpu else []
        calls += [pool.submit(_ready) for k, pool in self.models.items() for _ in range(self.replicas[k])]
        for fut in calls:
            try:
                fut.result()
            except BrokenProcessPool as e:
                raise ConfigError("a worker process died while setting up the ops") from e

    def restart(self, task: core.Task) -> None:
        """Replace the broken pool that ran `task` (its other tasks come back broken too)."""
        pool = self.pool_for(task)
        if getattr(pool, "_broken", False) is False:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        if task.kind == "cpu":
            self.cpu = self._make("cpu")
        else:
            self.models[task.first] = self._make(task.first)

    def kill(self) -> None:
        """Stop every worker now (Ctrl-C, an error): their half-written outputs are temp files, never results."""
        for pool in ([self.cpu] if self.cpu else []) + list(self.models.values()):
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        for pool in ([self.cpu] if self.cpu else []) + list(self.models.values()):
            pool.shutdown(wait=True, cancel_futures=True)


def _isolated(run: core.Run, specs: Specs, task: core.Task, strict: bool) -> core.TaskResult:
    """Retry a task whose worker died: alone in a fresh process; if that dies too, row by row (the retries'
    time is not attributed to stages)."""
    ctx = multiprocessing.get_context("spawn")
    outcome = _child(ctx, specs, strict, task, core.read_rows(task.source), write=True)
    if outcome.crashed is None:
        return core.TaskResult(outcome.count)
    outputs: dict[int, list[Row]] = {k: [] for k in task.store}
    for row in core.read_rows(task.source):
        result = _child(ctx, specs, strict, task, [row], write=False)
        current = [row]
        for k in range(task.first, task.last + 1):
            if k in result.outputs:
                current = result.outputs[k]
            elif result.crashed is not None and k == result.crashed:
                text = f"{run.stages[k].label}: WorkerCrash: {result.signal}"
                current = [add_error(dict(r), text) for r in current]
            if k in outputs:
                outputs[k].extend(current)
    for k, path in task.store.items():
        core.write_rows(outputs[k], path)
    return core.TaskResult(len(outputs[task.last]))


class _Outcome:
    def __init__(self) -> None:
        self.outputs: dict[int, list[Row]] = {}
        self.crashed: int | None = None
        self.signal = ""
        self.count = 0


def _child(ctx: Any, specs: Specs, strict: bool, task: core.Task, rows: list[Row], *, write: bool) -> _Outcome:
    """Run the task's stages over `rows` in a fresh process that stores the task's outputs (`write`) or sends
    each stage's output back; when the process dies, the stage it had entered is the one that crashed."""
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send, specs, strict, task, rows, task.store if write else None))
    proc.start()
    send.close()
    outcome = _Outcome()
    entered = task.first
    while True:
        try:
            kind, k, payload = receive.recv()
        except EOFError:
            break
        if kind == "enter":
            entered = k
        elif kind == "out":
            outcome.outputs[k] = payload
        elif kind == "done":
            outcome.count = payload
    proc.join()
    if proc.exitcode != 0:
        outcome.crashed = entered
        outcome.signal = _signal_name(proc.exitcode)
    return outcome


def _child_main(conn: Any, specs: Specs, strict: bool, task: core.Task, rows: list[Row],
                store: dict[int, Path] | None) -> None:
    apply.set_strict(strict)
    stages = plan_specs(specs)
    for k in range(task.first, task.last + 1):
        conn.send(("enter", k, None))
        stages[k].setup()
        rows = stages[k].run(rows)
        if store is not None and k in store:
            core.write_rows(rows, store[k])
        conn.send(("out", k, rows if store is None else None))
    conn.send(("done", 0, len(rows)))
    conn.close()


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def run(rows: list[Row], specs: Specs, workdir: str | Path, *, workers: int = 1, shard_size: int = 8,
        strict: bool = False, overwrite: bool = False, label: str = "processing", input_name: str = "",
        observer: Observer | None = None) -> list[Row]:
    """Process rows through the ops with the local executor under workdir; the merged output rows (the
    manifest is also at workdir/manifest.parquet). For step commands, scripts and tests."""
    from vidcurate.api import execute

    result = execute(rows, specs, Path(workdir), workers=workers, shard_size=shard_size, strict=strict,
                     overwrite=overwrite, label=label, input_name=input_name, observer=observer, sinks=False)
    return core.read_rows(result.manifest)
