"""`split`: a source row with a scene list -> one row per scene (not yet cut), carrying its scores.

Scene rows keep `path` = the source file and a frame span, so scorers can score them from the source and
`select` can drop them before `cut` ever encodes anything. Scenes that the scene op rejected (too short)
become rows too, with their `drop_reason`, so every drop stays visible in the manifest and the report.
"""

from __future__ import annotations

from typing import Any

from vidcurate.manifest import Row
from vidcurate.ops.base import Op, Resources, register

SCENE_LIST_COLUMNS = ("scene_frames", "scene_times", "scene_scores", "scene_dropped", "timestamp",
                      "num_scenes", "transitions")


def scene_rows(row: Row) -> list[Row]:
    """The scene rows of a source row (the row itself, unchanged, if it has no scene list)."""
    if "scene_frames" not in row:
        return [row]
    base = {k: v for k, v in row.items() if k not in SCENE_LIST_COLUMNS}
    fps = float(row.get("fps") or 0) or 25.0
    times = row.get("scene_times") or [[s / fps, e / fps] for s, e in row["scene_frames"]]
    scores = row.get("scene_scores") or [{} for _ in row["scene_frames"]]
    spans: list[tuple[int, int, float, float, dict[str, Any]]] = [
        (int(s), int(e), float(t0), float(t1), dict(sc))
        for (s, e), (t0, t1), sc in zip(row["scene_frames"], times, scores)
    ]
    for item in row.get("scene_dropped") or []:
        s, e, reason = int(item[0]), int(item[1]), str(item[2])
        spans.append((s, e, s / fps, e / fps, {"drop_reason": f"scenes: {reason}"}))
    spans.sort(key=lambda x: x[0])
    out = []
    for index, (start, end, t0, t1, extra) in enumerate(spans):
        out.append({
            **base,
            "id": f"{row['id']}_{index}",
            "source_id": row["id"],
            "source_path": row["path"],
            "clip_index": index,
            "start_frame": start,
            "end_frame": end,
            "start_s": round(t0, 6),
            "end_s": round(t1, 6),
            "num_frames": end - start,
            "duration": round(t1 - t0, 6),
            **extra,
        })
    return out


@register
class Split(Op):
    """Fan a source row out into its scene rows (no media is read)."""

    name = "split"
    resources = Resources(cpus=0.1, memory_mb=64)
    light = True

    def process(self, row: Row) -> list[Row]:
        return scene_rows(row)
