"""The op contract: parameters as dataclass fields, a registry, and the frame-op hooks for the shared decode.

An op is constructed from its recipe parameters (validated at construction, naming the op and the key),
`setup()` loads heavy state once per worker, and `process(row)` returns the updated row or, for fan-out,
a list of rows. Frame ops never open media themselves: they declare a `FrameSpec` and receive frames from
the one decode pass that `exec/scan.py` runs per source.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from vidcurate.errors import ConfigError
from vidcurate.manifest import Row

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
    #: columns this op adds; used by `run` to plan and by the report
    produces: ClassVar[tuple[str, ...]] = ()
    #: path parameters that `vidcurate run` resolves against its output folder when they are relative
    run_paths: ClassVar[tuple[str, ...]] = ()

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

    def params(self) -> dict[str, Any]:
        """The recipe parameters of this instance."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class FrameSpec:
    """Frames a frame op wants from the shared decode pass.

    Size is the display orientation (rotation and sample aspect ratio applied). Give `short_side` to scale
    keeping the aspect ratio, or `width` and `height` for an exact size; neither keeps the display size.
    `rate` is samples per second of source time (VFR-safe, taken from timestamps); None means every frame.
    `interpolation` is the FFmpeg scaler's: `bilinear` (filtered to the output size) or `fast_bilinear`
    (two taps whatever the ratio: ~30% cheaper, aliased like `cv2.INTER_LINEAR`, which is what
    PySceneDetect's own downscaling does, so shot detectors ask for it).
    """

    fmt: Literal["gray", "rgb24", "bgr24"] = "gray"
    short_side: int | None = None
    width: int | None = None
    height: int | None = None
    rate: float | None = None
    interpolation: Literal["bilinear", "fast_bilinear"] = "bilinear"

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) for a display size, rounded to even numbers of at least 2."""
        if self.width and self.height:
            return self.width, self.height
        if self.short_side and min(width, height) > self.short_side:
            scale = self.short_side / min(width, height)
            width, height = width * scale, height * scale
        return max(2, int(round(width / 2)) * 2), max(2, int(round(height / 2)) * 2)


Span = tuple[int, int]


class FrameOp(Op):
    """An op fed by the shared decode pass. Per source: start -> feed per frame -> finish per span."""

    def frame_spec(self) -> FrameSpec:
        raise NotImplementedError

    def start(self, row: Row) -> Any:
        """Fresh per-source state."""
        return {}

    def feed(self, state: Any, index: int, t: float, frame: np.ndarray) -> None:
        """One sampled frame: its decode index, its time in seconds from the stream start, the pixels."""
        raise NotImplementedError

    def finish(self, state: Any, row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        """Columns for each span ([start_frame, end_frame) of the source); `times[i]` is frame i's time."""
        raise NotImplementedError

    def process(self, row: Row) -> Row | list[Row]:
        from vidcurate.exec.scan import scan

        return scan(row, [self])


class Sink(Op):
    """An op that acts once on the finished manifest (report, export); rows pass through it unchanged."""

    def process(self, row: Row) -> Row:
        return row

    def write(self, rows: list[Row], out_dir: Path) -> Path:
        """Write this sink's output for the run in out_dir; return its path."""
        raise NotImplementedError


class SpanOp(FrameOp):
    """A frame op that finds spans (scene detection) rather than scoring them."""

    def spans(self, state: Any, row: Row, num_frames: int, times: list[float]) -> dict[str, Any]:
        """Columns describing the scenes; must include `scene_frames`."""
        raise NotImplementedError

    def finish(self, state: Any, row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        return [{} for _ in spans]


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: make the op a dataclass (if it is not) and add it to the registry under its name."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise TypeError(f"op name {cls.name!r} registered twice")
    if "__dataclass_fields__" not in cls.__dict__:
        cls = dataclass(cls)
    REGISTRY[cls.name] = cls
    return cls


def build(name: str, params: dict[str, Any] | None = None) -> Op:
    """Construct a registered op, with errors that name the op and the key."""
    from vidcurate.ops import load_all

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


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")

