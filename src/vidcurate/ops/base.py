"""The op contract: parameters as dataclass fields, a registry, and the frame-op hooks for the shared decode.

An op is constructed from its recipe parameters (validated at construction, naming the op and the key),
`setup()` loads heavy state once per worker, and `process(row)` returns the updated row or, for fan-out,
a list of rows. Frame ops never open media themselves: they declare a `FrameSpec` and receive frames from
the one decode pass the executor runs per source. Model ops (`ModelOp`) get a stage of their own that
batches items across rows. This module knows nothing of executors.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from vidcurate.columns import Column, declare
from vidcurate.errors import ConfigError
from vidcurate.media.decode import FrameSpec
from vidcurate.rows import Row, Span, carries_scenes

REGISTRY: dict[str, type[Op]] = {}


@dataclass(frozen=True)
class Resources:
    """What one instance of an op needs; executors (local pool, Ray actor pools) read it."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_mb: int = 512


class Op:
    """Base class. Subclasses are dataclasses whose fields are the recipe parameters."""

    name: ClassVar[str] = ""
    resources: ClassVar[Resources] = Resources()
    #: typed columns this op adds (`vidcurate.columns.Column`); they make the manifest schema, the README's
    #: column table and the plan of `run`; `output_names(op)` gives just the names
    produces: ClassVar[tuple[Column, ...]] = ()
    #: path parameters that `vidcurate run` resolves against its output folder when they are relative
    run_paths: ClassVar[tuple[str, ...]] = ()
    #: cheap per-row op (select, split): the run core recomputes it instead of caching its output
    light: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_params(self)
        self.validate()

    def validate(self) -> None:
        """Check parameter values; raise `self.bad(key, why)` on the first bad one."""

    def bad(self, key: str, why: str) -> ConfigError:
        """A ConfigError that names this op and the offending key."""
        return ConfigError(f"op '{self.name}': key '{key}': {why}")

    def setup(self) -> None:
        """Load models or other heavy state, once per worker."""

    def process(self, row: Row) -> Row | list[Row]:
        raise NotImplementedError

    def expand(self, row: Row) -> list[Row] | None:
        """Rows to process one by one instead of `row` (fan-out before processing), or None; each expanded
        row then succeeds or fails on its own."""
        return None

    def params(self) -> dict[str, Any]:
        """The recipe parameters of this instance."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


class FrameOp(Op):
    """An op fed by the shared decode pass. Per source: start -> feed per frame -> finish per span.

    `start` receives the spans the pass will be scored on when they are known before decoding (a scene row,
    a clip, a source with scenes from an earlier step; `rows.known_spans`), or None when a shot detector in
    the same pass finds them; `finish` always receives the final spans.
    """

    def frame_spec(self) -> FrameSpec:
        raise NotImplementedError

    def start(self, row: Row, spans: list[Span] | None) -> Any:
        """Fresh per-source state."""
        return {}

    def feed(self, state: Any, index: int, t: float, frame: np.ndarray) -> None:
        """One sampled frame: its decode index, its time in seconds from the stream start, the pixels."""
        raise NotImplementedError

    def finish(self, state: Any, row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        """Columns for each span ([start_frame, end_frame) of the source); `times[i]` is frame i's time."""
        raise NotImplementedError


class SpanOp(FrameOp):
    """A frame op that finds spans (scene detection) rather than scoring them."""

    def spans(self, state: Any, row: Row, num_frames: int, times: list[float]) -> dict[str, Any]:
        """Columns describing the scenes; must include `scene_frames`."""
        raise NotImplementedError

    def finish(self, state: Any, row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        return [{} for _ in spans]


class ModelOp(Op):
    """An op that runs a model: the planner gives it a stage of its own.

    The stage runs `setup()` only in the processes that run it, splits every live row into `items` (one unit
    of model work each, e.g. one per scene), and calls `process_batch` with at most `batch_size` items
    gathered across rows and sources. Each item's output (a dict of columns) goes back to where the item came
    from: the row itself (key None) or scene k's `scene_scores` entry (key k). An item whose batch fails is
    retried in smaller batches, so one bad item fails alone. Subclasses declare `batch_size` as a field.
    """

    #: transport columns (e.g. frames from the scan) this op's stage removes from every row when it is done
    consumes: ClassVar[tuple[str, ...]] = ()

    def items(self, row: Row) -> list[tuple[int | None, Any]]:
        """(key, payload) pairs of one live row; the default is the row itself as a single item."""
        return [(None, row)]

    def process_batch(self, payloads: list[Any]) -> list[dict[str, Any]]:
        """One dict of output columns per payload, in order."""
        raise NotImplementedError

    @property
    def max_batch(self) -> int:
        return int(getattr(self, "batch_size", 1))


class FrameModelOp(ModelOp):
    """A model op scored from frames: the scan collects `frames` frames per span at `frame_spec()` (passed
    through `prepare`, e.g. a centre crop, and stored losslessly as PNG), and the model stage scores them."""

    #: set by the planner: the transport column the scan writes this op's frames into
    frames_column: str = ""

    def frame_spec(self) -> FrameSpec:
        raise NotImplementedError

    @property
    def frames_per_span(self) -> int:
        return int(getattr(self, "frames", 1))

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The frame as the model stage should receive it (runs in the scan, on CPU)."""
        return frame

    def collect_key(self) -> dict[str, Any]:
        """What determines the frames the scan collects for this op (its fingerprint in the scan stage)."""
        return {"spec": dataclasses.asdict(self.frame_spec()), "frames": self.frames_per_span,
                "column": self.frames_column}

    def check_row(self, row: Row) -> None:
        """Raise when a row cannot be scored at all (before its frames are collected)."""

    def context(self, row: Row) -> dict[str, Any]:
        """Row values the model needs besides the frames (e.g. the caption); added to every item payload."""
        return {}

    def items(self, row: Row) -> list[tuple[int | None, Any]]:
        from vidcurate.sampling import unpack_frames

        self.check_row(row)
        extra = self.context(row)
        scores = row.get("scene_scores") if carries_scenes(row) else None
        if scores is not None:
            return [(k, {"frames": unpack_frames(s.get(self.frames_column) or []), **extra})
                    for k, s in enumerate(scores)]
        return [(None, {"frames": unpack_frames(row.get(self.frames_column) or []), **extra})]

    @property
    def consumes(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.frames_column,) if self.frames_column else ()


class Sink(Op):
    """A dataset op that acts once on the finished manifest (report, export); rows pass through unchanged."""

    def process(self, row: Row) -> Row:
        return row

    def write(self, manifest_path: Path, out_dir: Path) -> Path:
        """Write this sink's output for the run in out_dir from the finished manifest; return its path."""
        raise NotImplementedError


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: make the op a dataclass (if it is not) and add it to the registry under its name."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise TypeError(f"op name {cls.name!r} registered twice")
    if "__dataclass_fields__" not in cls.__dict__:
        cls = dataclass(cls)
    declare(cls.name, cls.produces, module=cls.__module__)
    REGISTRY[cls.name] = cls
    return cls


def output_names(op: Op | type[Op]) -> tuple[str, ...]:
    """Names of the columns an op (instance or class) declares in `produces`."""
    return tuple(c.name for c in op.produces)


def build(name: str, params: dict[str, Any] | None = None) -> Op:
    """Construct a registered op, with errors that name the op and the key. Only the op's own module is
    imported when it has one (`vidcurate.ops.<name>`), so a process loads just the ops it runs."""
    from vidcurate.ops import load_all, load_one

    if name not in REGISTRY and not load_one(name):
        load_all()
    if name not in REGISTRY:
        raise ConfigError(f"unknown op '{name}' (known: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY[name]
    params = dict(params or {})
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    for key in params:
        if key not in fields:
            raise ConfigError(f"op '{name}': unknown key '{key}' (valid: {', '.join(sorted(fields)) or 'none'})")
    try:
        return cls(**params)
    except TypeError as e:
        raise ConfigError(f"op '{name}': {e}") from e


def check_params(op: Op) -> None:
    """Type-check every dataclass field against its annotation (int, float, str, bool, Literal, lists)."""
    hints = typing.get_type_hints(type(op))
    for f in dataclasses.fields(op):  # type: ignore[arg-type]
        value = getattr(op, f.name)
        if not _conforms(value, hints.get(f.name, Any)):
            raise op.bad(f.name, f"expected {_describe(hints.get(f.name))}, got {value!r}")


def _conforms(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and (not args or all(_conforms(v, args[0]) for v in value))
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def describe_type(hint: Any) -> str:
    """A parameter type as a user reads it: 'float', 'one of 'dis', 'farneback'', 'int | None', ..."""
    return _describe(hint)


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")

