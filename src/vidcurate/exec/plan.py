"""Turn a list of ops into stages: consecutive frame ops fuse into one decode pass per source."""

from __future__ import annotations

from typing import Any

from vidcurate.exec.apply import apply
from vidcurate.exec.scan import scan
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, Op, Resources, build


class ScanGroup(Op):
    """Several frame ops fed by one decode of each source."""

    name = "scan"

    def __init__(self, ops: list[FrameOp]) -> None:
        self.ops = ops
        self.resources = Resources(
            cpus=max(o.resources.cpus for o in ops),
            gpus=max(o.resources.gpus for o in ops),
            memory_mb=sum(o.resources.memory_mb for o in ops),
        )

    def setup(self) -> None:
        for op in self.ops:
            op.setup()

    def process(self, row: Row) -> Row:
        return scan(row, self.ops)

    def __repr__(self) -> str:
        return f"scan[{'+'.join(o.name for o in self.ops)}]"


def stages(ops: list[Op]) -> list[Op]:
    """Fuse runs of consecutive frame ops; other ops stay as they are."""
    out: list[Op] = []
    group: list[FrameOp] = []
    for op in ops:
        if isinstance(op, FrameOp):
            group.append(op)
            continue
        if group:
            out.append(ScanGroup(group) if len(group) > 1 else group[0])
            group = []
        out.append(op)
    if group:
        out.append(ScanGroup(group) if len(group) > 1 else group[0])
    return out


def build_stages(specs: list[tuple[str, dict[str, Any]]]) -> list[Op]:
    """Construct ops from (name, params) pairs and fuse them into stages."""
    return stages([build(name, params) for name, params in specs])


def run_rows(stage_list: list[Op], rows: list[Row]) -> list[Row]:
    """Push rows through every stage in order."""
    for stage in stage_list:
        rows = apply(stage, rows)
    return rows
