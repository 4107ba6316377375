"""What every layer may know about a row: liveness, error text, and the one span-planning rule.

Ops, executors and media code all import from here (never from `exec/`), so the question "which frame spans
of this row get scored" has a single answer.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]
Span = tuple[int, int]


def is_live(row: Row) -> bool:
    """Rows with an error or a drop reason pass through later ops untouched."""
    return not row.get("error") and not row.get("drop_reason")


def add_error(row: Row, text: str) -> Row:
    """Append an error to a row (a row can collect several when frame ops share a decode)."""
    row["error"] = f"{row['error']}; {text}" if row.get("error") else text
    return row


def error_text(name: str, exc: BaseException) -> str:
    """The `error` column's format: '<op>: <ExceptionType>: <message>'."""
    message = " ".join(str(exc).split()) or repr(exc)
    return f"{name}: {type(exc).__name__}: {message[:500]}"


def own_span(row: Row) -> Span | None:
    """The frame span of a scene row that still points at its source (not yet cut)."""
    if "start_frame" in row and row.get("path") == row.get("source_path"):
        return int(row["start_frame"]), int(row["end_frame"])
    return None


def carries_scenes(row: Row) -> bool:
    """A source row with a scene list: per-scene scores go to `scene_scores`, parallel to `scene_frames`."""
    return "scene_frames" in row and own_span(row) is None


def known_spans(row: Row) -> list[Span] | None:
    """The spans a decode pass of this row scores, when they are known before decoding: the row's own span
    (a scene row), its `scene_frames` (a source with scenes from an earlier step), or the whole file when
    the frame count is known (a probed source, a clip). None: found or counted during the pass."""
    span = own_span(row)
    if span is not None:
        return [span]
    if "scene_frames" in row:
        return [(int(s), int(e)) for s, e in row["scene_frames"]]
    if row.get("num_frames"):
        return [(0, int(row["num_frames"]))]
    return None


def final_spans(row: Row, num_frames: int) -> list[Span]:
    """The spans scored once the pass has ended: as `known_spans`, with the decoded count for a whole file."""
    span = own_span(row)
    if span is not None:
        return [span]
    if "scene_frames" in row:
        return [(int(s), int(e)) for s, e in row["scene_frames"]]
    return [(0, num_frames)]


def span_targets(row: Row) -> list[dict[str, Any]] | None:
    """Where per-span columns of this row go: its `scene_scores` dicts (created as needed), or None for the
    row itself (one span)."""
    if not carries_scenes(row):
        return None
    scores = row.get("scene_scores") or []
    scores = [dict(s) for s in scores] + [{} for _ in range(len(row["scene_frames"]) - len(scores))]
    row["scene_scores"] = scores
    return scores
