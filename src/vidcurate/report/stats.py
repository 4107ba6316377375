"""Statistics the report shows: the funnel, numeric columns worth plotting, thresholds from the recipe."""

from __future__ import annotations

import ast
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from vidcurate.columns import catalogue
from vidcurate.manifest import Row

#: comparison operators that draw a threshold line, and which side is kept
_KEEP_SIDE = {ast.GtE: "above", ast.Gt: "above", ast.LtE: "below", ast.Lt: "below"}
PLOT_FIRST = ("resolution", "aspect_ratio", "duration", "fps", "num_frames")
NOT_PLOTTED = {"start_frame", "end_frame", "start_s", "end_s", "clip_index", "stream_index", "bit_rate",
               "file_size", "num_video_streams", "start_time", "rotation", "width", "height"}


@dataclass
class Funnel:
    """How many rows reached each stage."""

    sources: int = 0
    broken: int = 0
    scenes: int = 0
    kept: int = 0
    clips_written: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def is_clip_file(row: Row) -> bool:
    """A row whose `path` is a written clip (not its source)."""
    return "source_path" in row and row.get("path") != row.get("source_path")


def funnel(rows: Iterable[Row]) -> Funnel:
    """Count sources, scene rows, kept rows and written clips, with drop reasons and errors by op."""
    out = Funnel()
    sources: set[str] = set()
    broken: set[str] = set()
    for row in rows:
        source = str(row.get("source_id") or row.get("id"))
        sources.add(source)
        if "source_id" in row:
            out.scenes += 1
        if row.get("error"):
            out.errors[str(row["error"]).split(":", 1)[0]] += 1
            if "source_id" not in row:
                broken.add(source)
        elif row.get("drop_reason"):
            out.drop_reasons[str(row["drop_reason"])] += 1
        else:
            out.kept += 1
            out.clips_written += is_clip_file(row)
    out.sources, out.broken = len(sources), len(broken)
    return out


def plottable(key: str, value: object) -> bool:
    """A finite number in a column worth a histogram (not an index, a counter or a flag)."""
    counter = key.endswith("_frames") and key != "num_frames"
    if key in NOT_PLOTTED or counter or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def numeric_columns(rows: list[Row]) -> list[str]:
    """Columns with at least one finite number, in a stable, readable order."""
    return order_columns({key for row in rows for key, value in row.items() if plottable(key, value)})


def order_columns(found: Iterable[str]) -> list[str]:
    """Plotted columns in a stable, readable order: the basics, then catalogue order, then the rest."""
    found = set(found)
    first = [c for c in PLOT_FIRST if c in found]
    catalogued = [name for name in catalogue() if name in found and name not in first]
    return first + catalogued + sorted(found - set(first) - set(catalogued))


def thresholds(expressions: list[str]) -> dict[str, list[tuple[float, str]]]:
    """`column -> [(value, 'above'|'below')]` for simple comparisons `col OP number` in select expressions."""
    out: dict[str, list[tuple[float, str]]] = {}
    for text in expressions:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _KEEP_SIDE):
                continue
            left, right, side = node.left, node.comparators[0], _KEEP_SIDE[type(node.ops[0])]
            if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
                left, right = right, left
                side = "below" if side == "above" else "above"
            if isinstance(left, ast.Name) and isinstance(right, ast.Constant) and _is_num(right.value):
                out.setdefault(left.id, []).append((float(right.value), side))
    return out


def _is_num(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
