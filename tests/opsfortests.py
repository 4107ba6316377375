"""Ops used by the executor tests. Worker processes import this file through $VIDCURATE_OPS, as they would a
user's own op module."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from vidcurate.ops.base import ModelOp, Op, Resources, register
from vidcurate.rows import Row


@register
class Explode(Op):
    """Fails on rows whose id contains 'bad', fans out rows whose id contains 'two'."""

    name = "test_explode"

    def process(self, row: Row) -> Row | list[Row]:
        if "bad" in row["id"]:
            raise RuntimeError("boom on purpose")
        if "two" in row["id"]:
            return [{**row, "id": row["id"] + "_0"}, {**row, "id": row["id"] + "_1"}]
        row["seen"] = True
        return row


@register
class Segv(Op):
    """Kills its own process with SIGSEGV on rows whose id contains 'segv' (a native crash)."""

    name = "test_segv"

    def process(self, row: Row) -> Row:
        if "segv" in row["id"]:
            os.kill(os.getpid(), signal.SIGSEGV)
        row["survived"] = True
        row["cpu_pid"] = os.getpid()
        return row


@register
class Batched(ModelOp):
    """One item per scene; echoes each item's identity so misattribution shows; 'poison' rows fail at item 1."""

    name = "test_batched"

    batch_size: int = 3
    record: str = ""
    delay: float = 0.0

    def setup(self) -> None:
        if self.record:
            with open(self.record, "a") as fh:
                fh.write(f"{os.getpid()}\n")

    def items(self, row: Row) -> list[tuple[int | None, Any]]:
        return [(k, {"id": row["id"], "k": k}) for k in range(len(row["scene_frames"]))]

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        if any("poison" in p["id"] and p["k"] == 1 for p in payloads):
            raise ValueError("poisoned item")
        time.sleep(self.delay)
        ids = sorted({p["id"] for p in payloads})
        return [{"echo": f"{p['id']}/{p['k']}", "batch": len(payloads), "rows_in_batch": len(ids),
                 "model_pid": os.getpid()} for p in payloads]


@register
class Short(ModelOp):
    """Returns one output too few for every batch."""

    name = "test_short"

    batch_size: int = 4

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        return [{"x": 1} for _ in payloads[1:]]


@register
class BadSetup(ModelOp):
    """Its model never loads."""

    name = "test_bad_setup"

    batch_size: int = 1

    def setup(self) -> None:
        raise RuntimeError("weights not found on purpose")

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        return [{} for _ in payloads]


@register
class OnGpu(ModelOp):
    """Declares one GPU per process; records the device its process was given."""

    name = "test_on_gpu"
    resources = Resources(cpus=1.0, gpus=1.0)

    batch_size: int = 1
    record: str = ""
    delay: float = 0.2

    def setup(self) -> None:
        with open(self.record, "a") as fh:
            fh.write(f"{os.getpid()} {os.environ.get('CUDA_VISIBLE_DEVICES')}\n")

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        return [{"device": os.environ.get("CUDA_VISIBLE_DEVICES")} for _ in payloads]


@register
class ModelSegv(ModelOp):
    """A model that crashes its process on rows whose id contains 'segv'."""

    name = "test_model_segv"

    batch_size: int = 4

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        if any("segv" in p["id"] for p in payloads):
            os.kill(os.getpid(), signal.SIGSEGV)
        return [{"scored": True} for _ in payloads]
