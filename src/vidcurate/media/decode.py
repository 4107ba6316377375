"""The one sequential decode pass per source.

Every frame consumer of a run (scene detectors, scorers) declares a `FrameSpec`; one pass over the file
converts each decoded frame to each distinct (size, format) that is due at that frame, applies the display
rotation, and hands the arrays out. Conversions are shared between consumers asking for the same size and
format, and frames nobody wants at that moment are never converted (conversion costs about as much as
decoding). `DECODES` counts passes per path so tests and benchmarks can assert "decode once".

Decoding runs in a background thread (`_frames_ahead`) that keeps a few decoded frames queued, while the
calling thread converts frames and runs the consumers: PyAV releases the GIL inside FFmpeg, and a plain
threaded decode leaves about half a core idle on a 2-core machine, so the consumers' work overlaps the
decoding instead of adding to it (measured: content detection 1.6x -> 1.3x a plain decode). Conversions run
single-threaded: FFmpeg's automatic scaler threading made a 720p -> 256x144 conversion 1.6x slower while
the decoder's own threads hold the cores.

When every consumer samples by time (`rate`; no shot detector needs every frame) and the codec is H.264 or
HEVC, frames no consumer will sample are not decoded at all where the codec allows it: each packet whose
frame cannot be due for any spec is sent with FFmpeg's `skip_frame = NONREF`, so the decoder drops it if it
is a non-reference frame (no other frame is predicted from it, so every other frame decodes bit-identically)
and decodes it as usual otherwise. Such a frame still counts (index, time from its packet) but is handed
out as `None` arrays to nobody. "Cannot be due" is decided from packet timestamps before decoding, with a
margin: the frame's interval since the latest earlier timestamp seen contains no sampling instant of any
spec. On the real test set most H.264 files are a fifth to a half non-reference frames (B-frames; none
in files without them): all six scorers on a 720p file skipped 154 of 576 frames.

An RGB/BGR conversion is two scaler calls: scale in the frame's own planar YUV layout (FFmpeg's fast
path), then change the pixel format at the small size (grey is one call: it reads only the luma). On a
720p frame this is 2.3x cheaper than one combined 720p -> 456x256 RGB call, with the same colour matrix
and range (the small frame keeps the source's tags; chroma is subsampled at the small size, as in a video
of that size). Each conversion depends only on its own spec and the source, never on which other
consumers share the pass, so a scorer gives the same values fused in `run` as alone in `vidcurate score`.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

import av
import numpy as np
from av.video.reformatter import VideoReformatter


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


DECODES: collections.Counter[str] = collections.Counter()
FRAMES: collections.Counter[str] = collections.Counter()
"""Totals of this process: `decoded` frames (dropped non-reference frames not counted) over all passes."""

FrameCallback = Callable[[int, float, list[np.ndarray | None]], None]


@dataclass
class DecodeResult:
    """What the pass saw: frame count, per-frame times (s, from the first frame), display size, rate."""

    num_frames: int = 0
    times: list[float] = field(default_factory=list)
    width: int = 0
    height: int = 0
    fps: float = 0.0
    rotation: int = 0
    skipped: int = 0
    """Frames the decoder was allowed to drop (non-reference, sampled by no spec); counted in `times`."""


def pick_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The main video stream (delegates to the probe's choice so both agree)."""
    from vidcurate.media.probe import best_video_stream

    return best_video_stream(container)


def display_size(stream: av.video.stream.VideoStream, rotation: int) -> tuple[int, int]:
    """Display width/height from coded size, sample aspect ratio and rotation (clockwise degrees)."""
    ctx = stream.codec_context
    width, height = ctx.width, ctx.height
    sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
    if sar and Fraction(sar) > 0 and Fraction(sar) != 1:
        width = int(round(width * float(sar) / 2)) * 2
    return (height, width) if rotation % 180 == 90 else (width, height)


class _Sampler:
    """Decides, from timestamps, which frames one spec wants (every frame, or `rate` per second)."""

    def __init__(self, spec: FrameSpec) -> None:
        self.period = 1.0 / spec.rate if spec.rate else 0.0
        self.next_t = 0.0

    def due(self, t: float) -> bool:
        if not self.period:
            return True
        if t + 1e-6 < self.next_t:
            return False
        while self.next_t <= t + 1e-6:
            self.next_t += self.period
        return True


def decode_pass(
    path: str | Path,
    specs: Sequence[FrameSpec],
    on_frame: FrameCallback,
    *,
    start_frame: int = 0,
    end_frame: int | None = None,
    skip_unsampled: bool = True,
) -> DecodeResult:
    """Decode `path` once, calling `on_frame(index, t, arrays)` with one array (or None) per spec.

    Frames before `start_frame` are decoded but not converted; decoding stops at `end_frame`. Times are
    seconds since the first video frame, from timestamps (so VFR and delayed starts are right).
    `skip_unsampled=False` decodes every frame even when some could be dropped (see the module docstring).
    """
    DECODES[str(path)] += 1
    result = DecodeResult()
    with av.open(str(path)) as container:
        stream = pick_stream(container)
        stream.thread_type = "AUTO"
        plan = _SkipPlan.for_pass(stream, specs) if skip_unsampled and start_frame == 0 else None
        decoded = _frames_ahead(container, stream, plan)
        rate = stream.average_rate or stream.guessed_rate
        result.fps = float(rate) if rate else 0.0
        samplers = [_Sampler(s) for s in specs]
        scalers: dict[_Key, tuple[VideoReformatter, VideoReformatter]] = {}
        first_pts: float | None = None
        last_t = -1.0
        index = -1
        with contextlib.closing(decoded):
            for frame in decoded:
                index += 1
                if end_frame is not None and index >= end_frame:
                    break
                t = _frame_time(frame, result.fps, last_t)
                if first_pts is None:
                    first_pts = t
                    result.rotation = (-int(frame.rotation or 0)) % 360
                    result.width, result.height = display_size(stream, result.rotation)
                t -= first_pts
                last_t = t + first_pts
                result.times.append(round(t, 6))
                if isinstance(frame, _Dropped):
                    result.skipped += 1
                    continue
                if index < start_frame:
                    continue
                wanted = [sampler.due(t - result.times[start_frame]) for sampler in samplers]
                if any(wanted):
                    on_frame(index, t, _convert(frame, specs, wanted, result, scalers))
    result.num_frames = len(result.times)
    FRAMES["decoded"] += result.num_frames - result.skipped
    return result


AHEAD = 8
"""Decoded frames the background decoder may hold ahead of the consumers (8 x 3 MB of 1080p yuv420p)."""

_DONE = object()

SKIP_CODECS = frozenset({"h264", "hevc"})
"""Decoders whose `skip_frame = NONREF` drops exactly the frames no other frame references (checked
frame by frame against a full decode: tests/test_decode.py, and every H.264/HEVC file of the external set)."""

SKIP_MARGIN = 1e-3
"""Seconds of slack around each sampling instant when deciding that a frame cannot be due."""

KEEP_TIMES = 256
"""Latest packet times `_SkipPlan` remembers; forgetting older ones only makes it decode more."""


class _Dropped(NamedTuple):
    """A frame the decoder was allowed to drop: only its timestamp, in the stream's time base."""

    pts: int
    time_base: Fraction


class _SkipPlan:
    """Decides, per packet and before decoding, whether its frame may be dropped: no spec can sample it.

    A spec with `rate` r samples the first frame at or after each instant k / r (k = 0, 1, ...; seconds from
    the first frame; `_Sampler`). A frame at time t is due only if such an instant lies after the previous
    frame's time and at or before t. The previous frame's time is at least the latest earlier packet time
    seen so far, so when no instant lies in (that time - margin, t + margin] the frame cannot be due. Nothing
    is dropped before the first frame is out (the times are relative to it).
    """

    def __init__(self, periods: list[float], time_base: Fraction) -> None:
        self.periods = periods
        self.time_base = time_base
        self.first: float | None = None
        self.seen: list[float] = []

    @classmethod
    def for_pass(cls, stream: av.video.stream.VideoStream, specs: Sequence[FrameSpec]) -> _SkipPlan | None:
        """A plan when every spec samples by time and the codec drops non-reference frames exactly."""
        if not specs or any(not spec.rate for spec in specs) or stream.time_base is None:
            return None
        if stream.codec_context.name not in SKIP_CODECS:
            return None
        return cls([1.0 / float(spec.rate or 0) for spec in specs], stream.time_base)

    def started(self, frame: av.VideoFrame) -> None:
        """Note the first decoded frame's time (no timestamp: never drop anything in this pass)."""
        if self.first is None:
            self.first = float(frame.pts * self.time_base) if frame.pts is not None else math.nan

    def droppable(self, pts: int | None) -> bool:
        """Whether the frame of a packet with this timestamp can be dropped; remembers the timestamp."""
        if pts is None:
            return False
        t = float(pts * self.time_base)
        k = bisect.bisect_left(self.seen, t)
        earlier = self.seen[k - 1] if k else None
        repeated = k < len(self.seen) and self.seen[k] == t
        self.seen.insert(k, t)
        if len(self.seen) > KEEP_TIMES:
            del self.seen[0]
        if self.first is None or math.isnan(self.first) or earlier is None or repeated:
            return False
        low, high = earlier - self.first - SKIP_MARGIN, t - self.first + SKIP_MARGIN
        return not any((math.floor(low / period) + 1) * period <= high for period in self.periods)


def _decode(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
            plan: _SkipPlan | None) -> Iterator[av.VideoFrame | _Dropped]:
    """`container.decode(stream)`, except that with a plan, droppable packets go to the decoder with
    `skip_frame = NONREF`; each of those the decoder did drop comes out as a `_Dropped` in display order."""
    if plan is None:
        yield from container.decode(stream)
        return
    ctx = stream.codec_context
    pending: list[int] = []
    for packet in container.demux(stream):
        drop = plan.droppable(packet.pts)
        ctx.skip_frame = "NONREF" if drop else "DEFAULT"
        if drop:
            bisect.insort(pending, packet.pts)
        for frame in ctx.decode(packet):
            plan.started(frame)
            if frame.pts is not None:
                while pending and pending[0] <= frame.pts:
                    pts = pending.pop(0)
                    if pts < frame.pts:
                        yield _Dropped(pts, stream.time_base)
            yield frame
    for pts in pending:
        yield _Dropped(pts, stream.time_base)


def _frames_ahead(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                  plan: _SkipPlan | None = None, ahead: int = AHEAD) -> Iterator[av.VideoFrame | _Dropped]:
    """`_decode(container, stream, plan)`, run by a background thread up to `ahead` frames early.

    Decoder errors are re-raised in the caller at the point they occurred; when the caller stops early (or
    raises), the thread is told to stop and joined before the container can be closed.
    """
    frames: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for frame in _decode(container, stream, plan):
                if not put(frame):
                    return
        except BaseException as e:  # handed to the consumer thread, which re-raises it
            put(e)
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="vidcurate-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = frames.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _frame_time(frame: av.VideoFrame | _Dropped, fps: float, last_t: float) -> float:
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    return last_t + (1.0 / fps if fps else 0.04)


_Key = tuple[int, int, str, str]
"""(coded width, coded height, pixel format, interpolation) of one conversion."""

# Planar YUV layouts FFmpeg scales without a colour conversion; other layouts are converted in one call.
_PLANAR_YUV = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"})


def _convert(
    frame: av.VideoFrame,
    specs: Sequence[FrameSpec],
    wanted: list[bool],
    info: DecodeResult,
    scalers: dict[_Key, tuple[VideoReformatter, VideoReformatter]],
) -> list[np.ndarray | None]:
    layout = frame.format.name if frame.format.name in _PLANAR_YUV else None
    cache: dict[_Key, np.ndarray] = {}
    out: list[np.ndarray | None] = []
    turns = info.rotation // 90
    for spec, want in zip(specs, wanted):
        if not want:
            out.append(None)
            continue
        width, height = spec.size_for(info.width, info.height)
        coded = (height, width) if turns % 2 else (width, height)
        key = (coded[0], coded[1], spec.fmt, spec.interpolation)
        if key not in cache:
            native = layout if spec.fmt != "gray" else None
            scale, recolour = scalers.setdefault(key, (VideoReformatter(), VideoReformatter()))
            small = scale.reformat(frame, width=coded[0], height=coded[1], format=native or spec.fmt,
                                   interpolation=spec.interpolation.upper(), threads=1)
            if native:
                small = recolour.reformat(small, format=spec.fmt, threads=1)
            arr = small.to_ndarray()
            cache[key] = np.ascontiguousarray(np.rot90(arr, k=-turns)) if turns else arr
        out.append(cache[key])
    return out
