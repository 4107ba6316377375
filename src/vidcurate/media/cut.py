"""Clip writers: frame-accurate re-encode (libx264) and keyframe-aligned stream copy, verified and atomic.

Frame indices are those of the shared decode pass (0-based, presentation order). To reach frame `start`
without decoding everything before it, `frame_table` demuxes the source once (about 1/50 of a decode) and
sorts the packet timestamps: the i-th smallest pts is frame i, on VFR and B-frame sources alike. The
encoder seeks to the last keyframe at or before that pts, decodes, and keeps frames by exact pts match;
when timestamps are missing, duplicated, or the decoder's pts do not match the table, it falls back to
decoding from the start and counting frames (exact by definition, slower).

Every clip is written under a hidden temp name in its target folder, probed with an exact frame count,
checked against its plan, and only then renamed into place, so a crash or kill never leaves a partial file
under a clip name. Encode mode writes display-oriented square pixels (rotation and sample aspect ratio are
applied, rotation flag 0) because many training loaders ignore the rotation flag; copy mode keeps the
coded pixels and carries the rotation flag.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidcurate.media.probe import ProbeError, best_video_stream, probe

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")

#: clip writes per destination path, so tests can assert that a resume does not encode again
ENCODES: collections.Counter[str] = collections.Counter()

# Time base for clips whose source has no usable timestamps (frame times then come from the frame rate).
_FALLBACK_TIME_BASE = Fraction(1, 90000)
# Keyframes to step back when a seek lands after the wanted frame, before decoding from the start instead.
_SEEK_RETRIES = 3
_EPSILON = Fraction(1, 10**6)
# Stream copies go to MP4 when it can hold the codecs (VP8, Cinepak, ... cannot), else Matroska.
_COPY_FORMATS = {".mp4": "mp4", ".mkv": "matroska"}


class CutError(Exception):
    """A clip could not be written or did not match its plan; no file is left behind."""


class _Inexact(Exception):
    """The seek + timestamp path cannot guarantee exact frames here; decode from the start instead."""


@dataclasses.dataclass
class FrameTable:
    """Per-frame timestamps of a source's video stream from one demux pass, in presentation order.

    `pts[i]` is frame i's timestamp in `time_base`; `end_pts` is where the last frame ends. `keyframes` are
    the sorted pts of keyframe packets, `order` the decode position of each frame. `exact` is False when a
    packet has no pts or two share one, in which case only frame counts are trusted.
    """

    path: str
    stream_index: int
    time_base: Fraction
    pts: list[int]
    end_pts: int
    keyframes: list[int]
    order: list[int]
    exact: bool

    @property
    def num_frames(self) -> int:
        return len(self.pts)

    def pts_at(self, index: int) -> int:
        """Timestamp of frame `index`; `num_frames` means the end of the last frame."""
        return self.end_pts if index >= len(self.pts) else self.pts[index]

    def seconds(self, index: int) -> float:
        """Time of frame `index` (or the end) in seconds since the first frame, as the decode pass reports."""
        return float((self.pts_at(index) - self.pts[0]) * self.time_base) if self.pts else 0.0

    def index_at(self, seconds: float) -> int:
        """The first frame presented at or after `seconds` from the first frame (`num_frames` when none is)."""
        if not self.pts:
            return 0
        target = self.pts[0] + seconds / float(self.time_base) - 1e-6 / float(self.time_base)
        return bisect.bisect_left(self.pts, target)

    def keyframe_at_or_before(self, index: int) -> int:
        """Index of the last keyframe whose pts is not after frame `index` (0 when none is)."""
        k = bisect.bisect_right(self.keyframes, self.pts[index]) - 1
        return self.index_of(self.keyframes[k]) if k >= 0 else 0

    def keyframe_at_or_after(self, index: int) -> int:
        """Index of the first keyframe at or after frame `index`, or `num_frames` when none is."""
        if index >= len(self.pts):
            return len(self.pts)
        k = bisect.bisect_left(self.keyframes, self.pts[index])
        return self.index_of(self.keyframes[k]) if k < len(self.keyframes) else len(self.pts)

    def index_of(self, pts: int) -> int:
        i = bisect.bisect_left(self.pts, pts)
        if i >= len(self.pts) or self.pts[i] != pts:
            raise _Inexact(f"pts {pts} is not a frame of the table")
        return i


def frame_table(path: str | Path) -> FrameTable:
    """Demux the main video stream once and index its frames by presentation timestamp."""
    with av.open(os.path.abspath(path)) as container:
        stream = best_video_stream(container)
        tb = Fraction(stream.time_base) if stream.time_base else _FALLBACK_TIME_BASE
        entries: list[tuple[int | None, bool, int]] = []
        for packet in container.demux(stream):
            if packet.size <= 0 or packet.is_discard or packet.is_corrupt:
                continue
            entries.append((packet.pts, bool(packet.is_keyframe), int(packet.duration or 0)))
        rate = stream.average_rate or stream.guessed_rate
        index = stream.index
    stamps = [p for p, _, _ in entries]
    exact = bool(entries) and None not in stamps and len(set(stamps)) == len(stamps)
    if not exact:
        step = round(1 / (Fraction(rate) * tb)) if rate else 1
        n = len(entries)
        return FrameTable(str(path), index, tb, [i * step for i in range(n)], n * step,
                          [0] if n else [], list(range(n)), False)
    by_pts = sorted(range(len(entries)), key=lambda i: stamps[i])
    pts = [stamps[i] for i in by_pts]
    last = entries[by_pts[-1]]
    tail = last[2] or (pts[-1] - pts[-2] if len(pts) > 1 else (round(1 / (Fraction(rate) * tb)) if rate else 1))
    keyframes = sorted(p for p, key, _ in entries if key) or [pts[0]]
    return FrameTable(str(path), index, tb, pts, pts[-1] + tail, keyframes, by_pts, True)


@dataclasses.dataclass
class EncodeSettings:
    """libx264 settings of encode mode; `fps` resamples by timestamps, `shorter_side` scales keeping aspect."""

    crf: int = 18
    preset: str = "veryfast"
    fps: float | None = None
    shorter_side: int | None = None
    keep_audio: bool = False


@dataclasses.dataclass
class CutResult:
    """What a clip file holds: the source span actually written and the clip's probe."""

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    info: dict[str, Any]
    reused: bool = False


def output_size(width: int, height: int, shorter_side: int | None) -> tuple[int, int]:
    """Clip size for a display size: scaled so the shorter side is `shorter_side` (never up), even dims."""
    if shorter_side and min(width, height) > shorter_side:
        scale = shorter_side / min(width, height)
        width, height = round(width * scale), round(height * scale)
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


def expected_frames(table: FrameTable, start: int, end: int, fps: float | None) -> int:
    """Frames an encode of [start, end) writes: the span itself, or one per 1/fps of its duration."""
    if not fps:
        return end - start
    seconds = table.seconds(end) - table.seconds(start)
    return max(1, math.ceil(seconds * fps - 1e-6))


def stale_temps(dst: Path) -> list[Path]:
    """Temp files a killed writer left for this clip name."""
    pattern = re.compile(rf"^\.{re.escape(dst.name)}\.tmp-\d+{re.escape(dst.suffix)}$")
    if not dst.parent.is_dir():
        return []
    return [p for p in dst.parent.iterdir() if pattern.match(p.name)]


def clean_stale(dst: Path) -> int:
    """Remove temp files of this clip name whose writer process is gone; return how many."""
    removed = 0
    for tmp in stale_temps(dst):
        pid = int(tmp.name.rsplit("-", 1)[1].split(".")[0])
        if pid != os.getpid() and _alive(pid):
            continue
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    """Whether a process is running. A killed writer whose parent died too stays a zombie until something
    reaps it (in containers, possibly never): on Linux its /proc state 'Z' counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


PLAN_TAG = "comment"
"""Container metadata key under which a written clip records how it was made (`plan_tag`), so that a later
run reuses it only when the settings and the span are still the same."""


def plan_tag(start: int, end: int, settings: EncodeSettings | None = None, keep_audio: bool = False) -> str:
    """What a clip was written from: the source span and the encode settings (None: a stream copy)."""
    how = dataclasses.asdict(settings) if settings is not None else {"copy": True, "keep_audio": keep_audio}
    return "vidcurate " + json.dumps({"span": [start, end], **how}, sort_keys=True, separators=(",", ":"))


def written_tag(path: Path) -> str:
    """The plan tag a clip file carries ('' when none)."""
    with av.open(os.path.abspath(path)) as container:
        return str(container.metadata.get(PLAN_TAG, ""))


def existing_clip(dst: Path, frames: int, tolerance: int, size: tuple[int, int] | None = None,
                  tag: str | None = None) -> dict | None:
    """The probe of an already written clip that matches its plan (frame count, size, and the plan tag when
    given: a clip encoded with other settings is not reused), else None."""
    if not dst.is_file():
        return None
    try:
        info = probe(dst, exact_frames=True)
        if tag is not None and written_tag(dst) != tag:
            return None
    except (ProbeError, av.FFmpegError):
        return None
    if abs(info["num_frames"] - frames) > tolerance:
        return None
    if size is not None and (info["width"], info["height"]) != size:
        return None
    return info


def atomic_write(dst: Path, write: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """Run `write(tmp)` (which must verify what it wrote), then rename into place; no file on failure."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}{dst.suffix}")
    try:
        info = write(tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    ENCODES[str(dst)] += 1
    return info


def encode_clip(
    src: str | Path, dst: str | Path, start: int, end: int, settings: EncodeSettings,
    table: FrameTable | None = None,
) -> CutResult:
    """Re-encode source frames [start, end) to `dst` (frame-accurate), verify, and return the result."""
    table = table or frame_table(src)
    _check_span(table, start, end)
    dst = Path(dst)
    planned = expected_frames(table, start, end, settings.fps)

    def write(tmp: Path) -> dict[str, Any]:
        try:
            written, size = _encode(src, tmp, table, start, end, settings, exact=table.exact)
        except _Inexact:
            written, size = _encode(src, tmp, table, start, end, settings, exact=False)
        info = _verify(tmp, planned, 1, size)
        if written != planned:
            raise CutError(f"wrote {written} frames, planned {planned}")
        return info

    info = atomic_write(dst, write)
    return CutResult(start, end, table.seconds(start), table.seconds(end), info)


def copy_plan(table: FrameTable, start: int, end: int) -> tuple[int, int]:
    """The span a stream copy of [start, end) actually writes: keyframe at/before start to keyframe at/after end."""
    _check_span(table, start, end)
    if not table.exact:
        raise CutError("copy mode needs packet timestamps; the source has none or duplicates (use mode: encode)")
    return table.keyframe_at_or_before(start), table.keyframe_at_or_after(end)


def copy_clip(
    src: str | Path, dst: str | Path, start: int, end: int, *, keep_audio: bool = False,
    table: FrameTable | None = None,
) -> CutResult:
    """Stream-copy the keyframe-aligned span around [start, end) to `dst`, verify, return the true span."""
    table = table or frame_table(src)
    first, stop = copy_plan(table, start, end)

    def write(tmp: Path) -> dict[str, Any]:
        written = _remux(src, tmp, table, first, stop, keep_audio)
        if written != stop - first:
            raise CutError(f"copied {written} frames, planned {stop - first} (open GOP or damaged packets?)")
        return _verify(tmp, stop - first, 0, None)

    info = atomic_write(Path(dst), write)
    return CutResult(first, stop, table.seconds(first), table.seconds(stop), info)


def _check_span(table: FrameTable, start: int, end: int) -> None:
    if not 0 <= start < end <= table.num_frames:
        raise CutError(f"span [{start}, {end}) is outside the source's {table.num_frames} frames")


def _verify(path: Path, frames: int, tolerance: int, size: tuple[int, int] | None) -> dict[str, Any]:
    """Probe a written clip with an exact count and compare it with the plan."""
    try:
        info = probe(path, exact_frames=True)
    except ProbeError as e:
        raise CutError(f"written clip does not probe: {e}") from e
    if abs(info["num_frames"] - frames) > tolerance:
        raise CutError(f"written clip has {info['num_frames']} frames, planned {frames}")
    if size is not None and (info["width"], info["height"]) != size:
        raise CutError(f"written clip is {info['width']}x{info['height']}, planned {size[0]}x{size[1]}")
    return info


def _span_frames(
    container: av.container.InputContainer, stream: Any, table: FrameTable, start: int, end: int, exact: bool
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Yield (index, frame) for source frames start..end-1, in order, each exactly once."""
    if not exact:
        for index, frame in enumerate(container.decode(stream)):
            if index >= end:
                return
            if index >= start:
                yield index, frame
        return
    key = table.keyframe_at_or_before(start)
    for attempt in range(_SEEK_RETRIES + 1):
        if key <= 0 or attempt == _SEEK_RETRIES:
            container.seek(0, stream=stream, backward=True, any_frame=False)
            key = 0
        else:
            container.seek(table.pts[key], stream=stream, backward=True, any_frame=False)
        frames = _exact_frames(container.decode(stream), table, start, end)
        try:
            first = next(frames)
        except StopIteration:
            raise _Inexact("no frame of the span decoded") from None
        if first[0] == start:
            yield first
            yield from frames
            return
        if key == 0:
            raise _Inexact(f"decoding from the start reached frame {first[0]} before frame {start}")
        key = table.keyframe_at_or_before(max(0, key - 1))


def _exact_frames(
    frames: Iterator[av.VideoFrame], table: FrameTable, start: int, end: int
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Index decoded frames by pts; frames must then arrive contiguous from their first in-span index."""
    expected: int | None = None
    for frame in frames:
        if frame.pts is None:
            raise _Inexact("decoded frame without pts")
        index = table.index_of(frame.pts)
        if index < start:
            continue
        if index >= end:
            return
        if expected is not None and index != expected:
            raise _Inexact(f"decoded frame {index} where {expected} was due")
        expected = index + 1
        yield index, frame
    if expected is not None and expected != end:
        raise _Inexact(f"decoding ended at frame {expected}, before {end}")


def _encode(
    src: str | Path, tmp: Path, table: FrameTable, start: int, end: int, settings: EncodeSettings, *, exact: bool
) -> tuple[int, tuple[int, int]]:
    """Decode [start, end) and encode it to tmp; returns (frames written, output size)."""
    with av.open(os.path.abspath(src)) as container, av.open(str(tmp), "w", format="mp4") as out:
        out.metadata[PLAN_TAG] = plan_tag(start, end, settings)
        stream = container.streams[table.stream_index]
        stream.thread_type = "AUTO"
        source_rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        if settings.fps:
            rate = Fraction(settings.fps).limit_denominator(1001)
            time_base = 1 / rate
        else:
            rate = Fraction(source_rate)
            time_base = table.time_base if exact else _FALLBACK_TIME_BASE
        video = out.add_stream("libx264", rate=rate, options={"crf": str(settings.crf), "preset": settings.preset})
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = time_base
        audio = _AudioSpan.open(container, out) if settings.keep_audio else None
        writer = _VideoWriter(out, video, time_base, settings.shorter_side, stream)
        start_abs = table.pts_at(start) * table.time_base
        if exact:
            end_rel = (table.pts_at(end) - table.pts_at(start)) * table.time_base
        else:
            end_rel = Fraction(end - start) / Fraction(source_rate)
        resampler = _Resampler(1 / rate if settings.fps else None, end_rel)
        for index, frame in _span_frames(container, stream, table, start, end, exact):
            if exact:
                t_rel = (frame.pts - table.pts_at(start)) * table.time_base
            else:
                t_rel = Fraction(index - start) / Fraction(source_rate)
            for held, t_out, duration in resampler.push(frame, t_rel):
                writer.write(held, t_out, duration)
        for held, t_out, duration in resampler.flush():
            writer.write(held, t_out, duration)
        writer.close()
        if audio is not None:
            audio.write(src, start_abs, start_abs + end_rel)
        if writer.count == 0:
            raise CutError("no frames decoded in the span")
        return writer.count, writer.size


class _Resampler:
    """Turns source frames with clip-relative times into output (frame, time, duration) slots.

    Without a period every source frame is one output frame with its own time (VFR kept). With a period
    each output slot k at k*period shows the last source frame at or before it (the fps filter's rule).
    """

    def __init__(self, period: Fraction | None, end: Fraction) -> None:
        self.period = period
        self.end = end
        self.held: av.VideoFrame | None = None
        self.held_t = Fraction(0)
        self.slot = 0

    def push(self, frame: av.VideoFrame, t: Fraction) -> list[tuple[av.VideoFrame, Fraction, Fraction]]:
        """Slots of the previously held frame that end before `t`; then hold `frame`."""
        out = self._slots(t) if self.held is not None else []
        self.held, self.held_t = frame, t
        return out

    def flush(self) -> list[tuple[av.VideoFrame, Fraction, Fraction]]:
        """Slots of the last frame up to the end of the span."""
        return self._slots(self.end, final=True) if self.held is not None else []

    def _slots(self, t: Fraction, final: bool = False) -> list[tuple[av.VideoFrame, Fraction, Fraction]]:
        assert self.held is not None
        if self.period is None:
            return [(self.held, self.held_t, max(t - self.held_t, _FALLBACK_TIME_BASE))]
        slots = []
        while self.slot * self.period < t - _EPSILON or (final and self.slot == 0):
            slots.append((self.held, self.slot * self.period, self.period))
            self.slot += 1
        return slots


class _VideoWriter:
    """Scales, rotates upright, encodes and muxes frames; carries frame durations onto packets."""

    def __init__(self, out: av.container.OutputContainer, stream: Any, time_base: Fraction,
                 shorter_side: int | None, source: Any) -> None:
        self.out, self.stream, self.time_base, self.shorter_side = out, stream, time_base, shorter_side
        self.source = source
        self.count = 0
        self.size = (0, 0)
        self.turns = 0
        self.durations: dict[int, int] = {}

    def write(self, frame: av.VideoFrame, t: Fraction, duration: Fraction) -> None:
        if self.count == 0:
            self._configure(frame)
        pixels = self._upright(frame)
        pts = round(t / self.time_base)
        pixels.pts = pts
        pixels.time_base = self.time_base
        self.durations[pts] = max(1, round(duration / self.time_base))
        self._mux(self.stream.encode(pixels))
        self.count += 1

    def close(self) -> None:
        if self.count:
            self._mux(self.stream.encode(None))

    def _configure(self, frame: av.VideoFrame) -> None:
        """Output size from the first frame (rotation, sample aspect ratio, resize) and its colour tags."""
        rotation = (-round((frame.rotation or 0) / 90) * 90) % 360
        self.turns = rotation // 90
        sar = self.source.sample_aspect_ratio or self.source.codec_context.sample_aspect_ratio
        width, height = frame.width, frame.height
        if sar and Fraction(sar) > 0 and Fraction(sar) != 1:
            width = max(2, 2 * round(width * Fraction(sar) / 2))
        if self.turns % 2:
            width, height = height, width
        self.size = output_size(width, height, self.shorter_side)
        self.stream.width, self.stream.height = self.size
        cc = self.stream.codec_context
        cc.color_range, cc.colorspace = frame.color_range, frame.colorspace
        cc.color_primaries, cc.color_trc = frame.color_primaries, frame.color_trc

    def _upright(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Scale to the output size in yuv420p (same matrix and range as the source), then turn upright."""
        width, height = self.size
        coded_w, coded_h = (height, width) if self.turns % 2 else (width, height)
        yuv = frame.reformat(width=coded_w, height=coded_h, format="yuv420p", interpolation="BICUBIC",
                             src_color_range=frame.color_range, dst_color_range=frame.color_range)
        if not self.turns:
            return yuv
        flat = yuv.to_ndarray().ravel()
        luma = coded_w * coded_h
        planes = (flat[:luma].reshape(coded_h, coded_w),
                  flat[luma : luma + luma // 4].reshape(coded_h // 2, coded_w // 2),
                  flat[luma + luma // 4 :].reshape(coded_h // 2, coded_w // 2))
        packed = np.concatenate([np.rot90(p, k=-self.turns).ravel() for p in planes])
        upright = av.VideoFrame.from_ndarray(packed.reshape(height * 3 // 2, width), format="yuv420p")
        upright.color_range, upright.colorspace = yuv.color_range, yuv.colorspace
        return upright

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.pts in self.durations:
                packet.duration = self.durations.pop(packet.pts)
        self.out.mux(packets)


class _AudioSpan:
    """The matching span of the source's first audio stream, re-encoded to AAC after the video."""

    def __init__(self, out_stream: Any, layout: str, rate: int) -> None:
        self.stream, self.layout, self.rate = out_stream, layout, rate
        self.out: av.container.OutputContainer | None = None

    @classmethod
    def open(cls, container: av.container.InputContainer, out: av.container.OutputContainer) -> _AudioSpan | None:
        if not container.streams.audio:
            return None
        source = container.streams.audio[0]
        rate = source.codec_context.sample_rate or 48000
        layout = "mono" if source.codec_context.channels == 1 else "stereo"
        stream = out.add_stream("aac", rate=rate, layout=layout)
        span = cls(stream, layout, rate)
        span.out = out
        return span

    def write(self, src: str | Path, t0: Fraction, t1: Fraction) -> None:
        """Decode audio in [t0, t1) (source seconds), trim to the sample, encode and mux."""
        assert self.out is not None
        resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        first, last = round(t0 * self.rate), round(t1 * self.rate)
        with av.open(os.path.abspath(src)) as container:
            source = container.streams.audio[0]
            if source.time_base:
                container.seek(max(0, int(t0 / source.time_base) - 1), stream=source, backward=True)
            for decoded in container.decode(source):
                if decoded.pts is None or decoded.time_base is None:
                    continue
                at = round(decoded.pts * decoded.time_base * self.rate)
                for frame in resampler.resample(decoded):
                    n = frame.samples
                    lo, hi = max(first, at), min(last, at + n)
                    if hi > lo:
                        self._encode(frame.to_ndarray()[:, lo - at : hi - at], lo - first)
                    at += n
                if at >= last:
                    break
        self.out.mux(self.stream.encode(None))

    def _encode(self, samples: np.ndarray, pts: int) -> None:
        assert self.out is not None
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=self.layout)
        frame.sample_rate = self.rate
        frame.pts = pts
        frame.time_base = Fraction(1, self.rate)
        self.out.mux(self.stream.encode(frame))


def copy_suffix(path: str | Path, keep_audio: bool = False) -> str:
    """Container for a stream copy of this source: '.mp4' when MP4 can hold its codecs, else '.mkv'."""
    with av.open(os.path.abspath(path)) as container:
        codecs = [best_video_stream(container).codec_context.codec.canonical_name]
        if keep_audio and container.streams.audio:
            codecs.append(container.streams.audio[0].codec_context.codec.canonical_name)
    for suffix, fmt in _COPY_FORMATS.items():
        with av.open(io.BytesIO(), "w", format=fmt) as probe_out:
            if all(c in probe_out.supported_codecs for c in codecs):
                return suffix
    raise CutError(f"cannot stream-copy {'+'.join(codecs)} into MP4 or Matroska; use mode: encode")


def _remux(src: str | Path, tmp: Path, table: FrameTable, first: int, stop: int, keep_audio: bool) -> int:
    """Copy video packets presenting frames [first, stop) (plus audio in that time) to tmp; frames copied."""
    lo, hi = table.pts_at(first), table.pts_at(stop)
    with av.open(os.path.abspath(src)) as container, \
            av.open(str(tmp), "w", format=_COPY_FORMATS.get(tmp.suffix, "mp4")) as out:
        out.metadata[PLAN_TAG] = plan_tag(first, stop, keep_audio=keep_audio)
        video_in = container.streams[table.stream_index]
        rotation = _stream_rotation(container, video_in)
        video_out = out.add_stream_from_template(video_in, opaque=True)
        if rotation:
            video_out.set_display_rotation(rotation)
        audio_in = container.streams.audio[0] if keep_audio and container.streams.audio else None
        pair = (audio_in, out.add_stream_from_template(audio_in, opaque=True)) if audio_in is not None else None
        copier = _Copier(out, (video_in, video_out), pair, lo, hi, table.time_base)
        for seek_to in (lo, 0):
            copied = copier.run(container, seek_to)
            if copied is not None:
                return copied
        raise CutError(f"the keyframe of frame {first} was not found when demuxing")


class _Copier:
    """One demux pass that muxes the video packets of [lo, hi) and the audio packets of that time."""

    def __init__(self, out: av.container.OutputContainer, video: tuple[Any, Any], audio: tuple[Any, Any] | None,
                 lo: int, hi: int, time_base: Fraction) -> None:
        self.out, self.video, self.audio, self.lo, self.hi = out, video, audio, lo, hi
        self.t_lo, self.t_hi = lo * time_base, hi * time_base

    def run(self, container: av.container.InputContainer, seek_to: int) -> int | None:
        """Frames copied, or None when the pass never met the start keyframe (then nothing was muxed)."""
        video_in, video_out = self.video
        container.seek(seek_to, stream=video_in, backward=True, any_frame=False)
        streams = [video_in] + ([self.audio[0]] if self.audio else [])
        pending: list[av.Packet] = []
        started = done = False
        copied = 0
        for packet in container.demux(streams):
            if packet.stream is video_in:
                if packet.size <= 0 or packet.is_discard or packet.is_corrupt or packet.pts is None or done:
                    continue
                if not started:
                    if packet.is_keyframe and packet.pts > self.lo and seek_to:
                        return None
                    if not (packet.is_keyframe and packet.pts == self.lo):
                        continue
                    started = True
                    for held in pending:
                        self._mux_audio(held)
                if packet.is_keyframe and packet.pts == self.hi:
                    done = True
                    if self.audio is None:
                        break
                    continue
                if self.lo <= packet.pts < self.hi:
                    packet.pts -= self.lo
                    packet.dts = None if packet.dts is None else packet.dts - self.lo
                    packet.stream = video_out
                    self.out.mux(packet)
                    copied += 1
            elif packet.pts is not None and packet.time_base is not None:
                t = packet.pts * packet.time_base
                if t >= self.t_hi and done:
                    break
                if self.t_lo <= t < self.t_hi:
                    if started:
                        self._mux_audio(packet)
                    else:
                        pending.append(packet)
        return copied if started else None

    def _mux_audio(self, packet: av.Packet) -> None:
        assert self.audio is not None
        shift = round(self.t_lo / packet.time_base)
        packet.pts -= shift
        packet.dts = None if packet.dts is None else packet.dts - shift
        packet.stream = self.audio[1]
        self.out.mux(packet)


def _stream_rotation(container: av.container.InputContainer, stream: Any) -> float:
    """The display matrix angle (counter-clockwise degrees, as PyAV reports) of the first decoded frame."""
    for frame in container.decode(stream):
        return float(frame.rotation or 0)
    return 0.0
