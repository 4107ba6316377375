"""The planner: a recipe's ops -> stages. Executors only run stages.

- row stage: one per-row op (probe, select, split, cut), CPU tasks;
- scan stage: a run of consecutive frame ops fused into one decode per source; frame model ops in the run
  add a collector to it, so the pass also emits their frames (lossless crops per span);
- model stage: one model op, right after the scan that collected its frames; batches of items across rows;
- sinks (report, export) are dataset ops that act once on the finished manifest; they are not stages.

A stage's `spec` (ops and parameters) is what the run core fingerprints, so a changed parameter changes
only that stage's key and every key after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from vidcurate.exec.apply import apply_model, apply_row, setup_ops
from vidcurate.exec.scan import FrameCollector, scan
from vidcurate.ops.base import FrameModelOp, FrameOp, ModelOp, Op, Resources, Sink, build
from vidcurate.rows import Row, is_live

Kind = Literal["row", "scan", "model"]


@dataclass
class Stage:
    """One step of the planned chain: its kind, its ops, and how to run it over a list of rows."""

    kind: Kind
    ops: list[Op]
    collectors: list[FrameCollector] = field(default_factory=list)

    @property
    def label(self) -> str:
        names = [op.name for op in self.ops]
        return f"scan[{'+'.join(names)}]" if self.kind == "scan" else names[0]

    @property
    def spec(self) -> list[Any]:
        """What determines this stage's output besides its input rows."""
        if self.kind != "scan":
            return [[op.name, op.params()] for op in self.ops]
        return [[op.name, op.collect_key() if isinstance(op, FrameModelOp) else op.params()] for op in self.ops]

    @property
    def light(self) -> bool:
        """A cheap row op whose output the run core recomputes rather than stores."""
        return self.kind == "row" and self.ops[0].light

    @property
    def resources(self) -> Resources:
        """What one instance of the stage needs (a scan: its ops' largest CPU share, summed memory)."""
        if self.kind != "scan":
            return self.ops[0].resources
        cpu_ops = [op for op in self.ops if not isinstance(op, ModelOp)]
        if not cpu_ops:
            return Resources(cpus=1.0, memory_mb=512)
        return Resources(cpus=max(op.resources.cpus for op in cpu_ops), gpus=0.0,
                         memory_mb=sum(op.resources.memory_mb for op in cpu_ops))

    def setup(self) -> None:
        """Load what the stage's ops need; only the processes that run this stage call it."""
        if self.kind != "scan":
            setup_ops(self.ops)
        else:
            setup_ops([op for op in self.ops if not isinstance(op, ModelOp)])

    def run(self, rows: list[Row]) -> list[Row]:
        if self.kind == "model":
            return apply_model(self.ops[0], rows)  # type: ignore[arg-type]
        if self.kind == "row":
            return apply_row(self.ops[0], rows)
        return [scan(row, self.consumers) if is_live(row) else row for row in rows]

    @property
    def consumers(self) -> list[FrameOp]:
        """The frame consumers of a scan, in op order (collectors stand in for frame model ops)."""
        collectors = {id(c.op): c for c in self.collectors}
        return [collectors.get(id(op), op) for op in self.ops]  # type: ignore[misc]


def plan(ops: list[Op]) -> list[Stage]:
    """Stages for a list of ops (sinks left out): consecutive frame ops fuse into one scan, each frame model
    op in a scan gets a model stage right after it, every other op is a stage of its own."""
    out: list[Stage] = []
    group: list[Op] = []

    def close() -> None:
        if not group:
            return
        scan_stage = Stage("scan", list(group))
        models = []
        for op in group:
            if isinstance(op, FrameModelOp):
                op.frames_column = f"_frames_{len(out)}_{len(scan_stage.collectors)}"
                scan_stage.collectors.append(FrameCollector(op))
                models.append(Stage("model", [op]))
        out.append(scan_stage)
        out.extend(models)
        group.clear()

    for op in ops:
        if isinstance(op, Sink):
            continue
        if isinstance(op, (FrameOp, FrameModelOp)):
            group.append(op)
            continue
        close()
        out.append(Stage("model" if isinstance(op, ModelOp) else "row", [op]))
    close()
    return out


def plan_specs(specs: list[tuple[str, dict[str, Any]]]) -> list[Stage]:
    """Construct ops from (name, params) pairs and plan them."""
    return plan([build(name, params) for name, params in specs])


def sinks(specs: list[tuple[str, dict[str, Any]]]) -> list[Sink]:
    """The recipe's dataset sinks, in order."""
    return [op for op in (build(name, params) for name, params in specs) if isinstance(op, Sink)]


def run_rows(stages: list[Stage], rows: list[Row]) -> list[Row]:
    """Push rows through every stage in order, in this process (setting each stage up first)."""
    for stage in stages:
        stage.setup()
        rows = stage.run(rows)
    return rows

