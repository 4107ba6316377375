"""Boundaries -> scenes: remove transition frames, trim, drop too-short scenes (with a reason), split long
ones into equal chunks, and express spans in seconds from the decode pass's per-frame times."""

from __future__ import annotations

import math
from collections.abc import Sequence

from vidcurate.detect import Boundaries

Span = tuple[int, int]


def raw_scenes(bounds: Boundaries, num_frames: int) -> list[Span]:
    """[start, end) spans between cuts, with every transition frame removed from both neighbours."""
    blocked = [False] * num_frames
    for a, b in bounds.transitions:
        for i in range(max(0, a), min(num_frames, b + 1)):
            blocked[i] = True
    cuts = set(bounds.cuts)
    scenes: list[Span] = []
    start: int | None = None
    for i in range(num_frames):
        if start is not None and (blocked[i] or i in cuts):
            scenes.append((start, i))
            start = None
        if not blocked[i] and start is None:
            start = i
    if start is not None:
        scenes.append((start, num_frames))
    return scenes


def end_time(times: Sequence[float], end: int, fps: float) -> float:
    """Time of frame `end`; for the end of the file, the last frame's time plus one frame duration.

    The last frame lasts as long as the gap before it (VFR), or the mean gap when that agrees within 1 ms
    (constant rate: avoids the 1 us rounding of stored timestamps).
    """
    if end < len(times):
        return float(times[end])
    if not times:
        return 0.0
    default = 1.0 / fps if fps else 0.04
    if len(times) < 2:
        return float(times[-1]) + default
    last_gap = float(times[-1] - times[-2])
    mean_gap = float(times[-1] - times[0]) / (len(times) - 1)
    step = mean_gap if abs(last_gap - mean_gap) < 1e-3 else last_gap
    return float(times[-1]) + (step if step > 0 else default)


def span_seconds(span: Span, times: Sequence[float], fps: float) -> float:
    return end_time(times, span[1], fps) - float(times[span[0]])


def chunk(span: Span, times: Sequence[float], fps: float, max_seconds: float) -> list[Span]:
    """Split a span longer than max_seconds into the fewest equal-duration chunks that each fit."""
    total = span_seconds(span, times, fps)
    parts = math.ceil(total / max_seconds - 1e-9)
    if parts <= 1:
        return [span]
    t0 = float(times[span[0]])
    cuts = [span[0]]
    for p in range(1, parts):
        target = t0 + total * p / parts
        i = cuts[-1] + 1
        while i < span[1] and times[i] < target - 1e-9:
            i += 1
        if end_time(times, i, fps) - float(times[cuts[-1]]) > max_seconds + 1e-9:
            i -= 1
        cuts.append(max(i, cuts[-1] + 1))
    cuts.append(span[1])
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def finalize(
    scenes: list[Span],
    times: Sequence[float],
    fps: float,
    *,
    min_seconds: float = 0.0,
    max_seconds: float | None = None,
    start_trim: int = 0,
    end_trim: int = 0,
) -> tuple[list[Span], list[list]]:
    """Kept scenes and dropped ones ([start, end, reason]) after trimming, length checks and chunking."""
    kept: list[Span] = []
    dropped: list[list] = []
    for start, end in scenes:
        s, e = start + start_trim, end - end_trim
        if e <= s:
            dropped.append([start, end, f"empty after trimming {start_trim}+{end_trim} frames"])
            continue
        if min_seconds > 0 and span_seconds((s, e), times, fps) < min_seconds - 1e-9:
            dropped.append([s, e, f"shorter than {min_seconds:g} s"])
            continue
        kept.extend(chunk((s, e), times, fps, max_seconds) if max_seconds else [(s, e)])
    return kept, dropped


def timecode(seconds: float) -> str:
    """'HH:MM:SS.mmm' as PySceneDetect's FrameTimecode.get_timecode() writes it."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def open_sora_timestamp(scene_times: list[list[float]]) -> str:
    """Open-Sora's `timestamp` column: the repr of a list of (start, end) timecode tuples."""
    return str([(timecode(a), timecode(b)) for a, b in scene_times])


def parse_open_sora_timestamp(text: str) -> list[tuple[float, float]]:
    """(start, end) seconds from Open-Sora's `timestamp` column: a list of pairs of 'HH:MM:SS.mmm' timecodes
    (also 'MM:SS.mmm', 'SS.mmm' or plain numbers of seconds). ValueError when it is not such a list."""
    import ast

    try:
        pairs = ast.literal_eval(text) if isinstance(text, str) else text
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"timestamp is not a list of (start, end) pairs: {text[:80]!r}") from e
    if not isinstance(pairs, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
        raise ValueError(f"timestamp is not a list of (start, end) pairs: {str(text)[:80]!r}")
    return [(_seconds(a), _seconds(b)) for a, b in pairs]


def _seconds(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    parts = str(value).strip().split(":")
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"not a timecode: {value!r}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as e:
        raise ValueError(f"not a timecode: {value!r}") from e
    total = 0.0
    for number in numbers:
        total = total * 60 + number
    return total
