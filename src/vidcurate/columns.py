"""The column catalogue: typed output columns, declared by the ops that produce them.

Every op lists its output columns as `Column`s in `Op.produces`; `ops.base.register` hands them to
`declare`. `catalogue()` merges them with `BASE_COLUMNS` (the columns no single op owns) into one ordered
mapping that drives the manifest's storage types and the README's column table. This module is the bottom
layer: it imports only the standard library and `vidcurate.errors` at module level.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

SCALAR_TYPES = ("int", "float", "str", "bool")
#: nested types: stored as JSON text in Parquet and CSV, native in JSONL
NESTED_TYPES = ("list[int]", "list[float]", "list[str]", "json")
TYPES = SCALAR_TYPES + NESTED_TYPES


@dataclass(frozen=True)
class Column:
    """One output column: name, type (one of `TYPES`), unit, meaning and producing op (filled by `declare`).

    `json` holds any nested value: lists of lists, dicts, lists of mixed scalars such as [12, 40, "too short"].
    """

    name: str
    type: str
    unit: str = ""
    doc: str = ""
    op: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"column {self.name!r}: unknown type {self.type!r}; use one of {', '.join(TYPES)}")

    @property
    def nested(self) -> bool:
        """Whether values are lists or dicts (stored as JSON text in Parquet and CSV)."""
        return self.type in NESTED_TYPES


_C = Column
#: columns no single op owns, in README order; those in `LAST` go after every op's columns
BASE_COLUMNS: tuple[Column, ...] = (
    _C("id", "str", "", "stable id: file stem + hash of relpath (clips: source id + clip index)", "convert"),
    _C("path", "str", "", "path of the media file (the clip file once `cut` ran)", "convert"),
    _C("relpath", "str", "", "path relative to the input folder", "convert"),
    _C("source_id", "str", "", "id of the source video a clip comes from", "split/cut"),
    _C("source_path", "str", "", "path of the source video", "split/cut"),
    _C("clip_index", "int", "", "0-based index of the scene within its source", "split/cut"),
    _C("start_frame", "int", "frame", "first frame of the span in the source (inclusive)", "split/cut"),
    _C("end_frame", "int", "frame", "end frame of the span in the source (exclusive)", "split/cut"),
    _C("start_s", "float", "s", "start time of the span in the source", "split/cut"),
    _C("end_s", "float", "s", "end time of the span in the source", "split/cut"),
    _C("scene_scores", "json", "", "per-scene score dicts, parallel to scene_frames", "scorers"),
    _C("text", "str", "", "caption", "caption"),
    _C("error", "str", "", "'<op>: <ExceptionType>: <message>' when an op failed on this row", "any"),
    _C("drop_reason", "str", "", "why the row was dropped, e.g. 'select: flow >= 0.5'", "select/scenes"),
)
LAST = ("scene_scores", "text", "error", "drop_reason")
#: op order of the catalogue (and README); ops not listed follow, alphabetically
ORDER = ("probe", "scenes", "split", "motion", "cmotion", "ocr", "quality", "nsfw", "face", "aesthetic", "match",
         "cut", "thumbnail")

_BASE = {c.name: c for c in BASE_COLUMNS}
_declared: dict[str, tuple[Column, ...]] = {}
_modules: dict[str, str] = {}
_cache: dict[str | None, dict[str, Column]] = {}
_loaded = False


def declare(op_name: str, cols: tuple[Column, ...], *, module: str = "") -> None:
    """Record an op's output columns (called by `ops.base.register`; `module` is where the op is defined).

    A name declared by another op (or a base column) with a different type raises TypeError naming both.
    Redeclaring the same op replaces its earlier declaration.
    """
    cols = tuple(c if c.op else dataclasses.replace(c, op=op_name) for c in cols)
    seen: set[str] = set()
    for c in cols:
        if not isinstance(c, Column):
            raise TypeError(f"op {op_name!r}: produces must hold Column objects, got {c!r}")
        if c.name in seen:
            raise TypeError(f"op {op_name!r} declares column {c.name!r} twice")
        seen.add(c.name)
        other = _owner(c.name, exclude=op_name)
        if other is not None and other.type != c.type:
            raise TypeError(f"column {c.name!r}: op {op_name!r} declares type {c.type!r} but "
                            f"{other.op!r} declares {other.type!r}")
    _declared[op_name] = cols
    _modules[op_name] = module
    _cache.clear()


def _owner(name: str, exclude: str) -> Column | None:
    if name in _BASE:
        return _BASE[name]
    for op in _ordered():
        if op != exclude:
            for c in _declared[op]:
                if c.name == name:
                    return c
    return None


def _ordered() -> list[str]:
    """Declared op names in catalogue order: `ORDER`, then the rest alphabetically."""
    rank = {op: i for i, op in enumerate(ORDER)}
    return sorted(_declared, key=lambda op: (rank.get(op, len(ORDER)), op))


def catalogue(package: str | None = None) -> dict[str, Column]:
    """Every known column by name: base identity columns, then each op's in `ORDER` (others alphabetically),
    then `LAST`. A column declared by several ops keeps the entry of the first op in that order.
    With `package`, only ops defined in modules under that package count (the README uses "vidcurate")."""
    global _loaded
    if not _loaded:
        from vidcurate.ops import load_all

        load_all()
        _loaded = True
    if package in _cache:
        return dict(_cache[package])
    ops = _ordered()
    if package is not None:
        ops = [op for op in ops if _modules[op] == package or _modules[op].startswith(package + ".")]
    out = {c.name: c for c in BASE_COLUMNS if c.name not in LAST}
    for op in ops:
        for c in _declared[op]:
            if c.name not in _BASE:
                out.setdefault(c.name, c)
    out.update((name, _BASE[name]) for name in LAST)
    _cache[package] = out
    return dict(out)
