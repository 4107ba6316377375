"""Progress is an observer of the run core, not part of it: executors report tasks and shards to it."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger("vidcurate")


class Observer:
    """Receives run events; the base class ignores them (library use, tests)."""

    def started(self, run: Any, shards_todo: int) -> None:
        """The run is planned: `run.num_shards` shards, `shards_todo` of them not yet finished."""

    def task_done(self, task: Any, result: Any) -> None:
        """Stages `task.first..task.last` of shard `task.shard` finished; `result.stats[k].rows_out` are the
        rows out of stage k (a `core.TaskResult`)."""

    def shard_done(self, shard: int) -> None:
        """Every stage of a shard finished."""

    def close(self) -> None:
        """The run ended (successfully or not)."""


class RichProgress(Observer):
    """Bars on a terminal: shards, and rows out of each stage; a log line per finished shard otherwise."""

    def __init__(self, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from vidcurate.cliutil import console

        self.label = label
        self.tty = sys.stderr.isatty()
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not self.tty)
        self.shards: Any = None
        self.stage_tasks: list[Any] = []
        self.finished = 0
        self.total = 0
        self.ran = 0
        self.start = time.monotonic()

    def started(self, run: Any, shards_todo: int) -> None:
        self.total = run.num_shards
        self.finished = run.num_shards - shards_todo
        self.start = time.monotonic()
        self.bar.start()
        self.shards = self.bar.add_task(f"{self.label}: shards", total=self.total, completed=self.finished)
        self.stage_tasks = [self.bar.add_task(f"  {stage.label}: rows out", total=None) for stage in run.stages]
        if shards_todo < run.num_shards:
            log.info("%s: %d of %d shards already done", self.label, self.finished, self.total)

    def task_done(self, task: Any, result: Any) -> None:
        for k, stats in result.stats.items():
            self.bar.advance(self.stage_tasks[k], stats.rows_out)

    def shard_done(self, shard: int) -> None:
        self.finished += 1
        self.ran += 1
        self.bar.advance(self.shards)
        if not self.tty:
            elapsed = time.monotonic() - self.start
            eta = elapsed / self.ran * (self.total - self.finished)
            log.info("%s: shard %d done (%d/%d), %.0f s elapsed, about %.0f s left", self.label, shard,
                     self.finished, self.total, elapsed, eta)

    def close(self) -> None:
        self.bar.stop()
