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

An RGB/BGR conversion is two scaler calls: scale in the frame's own planar YUV layout (FFmpeg's fast
path), then change the pixel format at the small size (grey is one call: it reads only the luma). On a
720p frame this is 2.3x cheaper than one combined 720p -> 456x256 RGB call, with the same colour matrix
and range (the small frame keeps the source's tags; chroma is subsampled at the small size, as in a video
of that size). Each conversion depends only on its own spec and the source, never on which other
consumers share the pass, so a scorer gives the same values fused in `run` as alone in `vidcurate score`.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from av.video.reformatter import VideoReformatter

if TYPE_CHECKING:
    from vidcurate.ops.base import FrameSpec

DECODES: collections.Counter[str] = collections.Counter()

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
) -> DecodeResult:
    """Decode `path` once, calling `on_frame(index, t, arrays)` with one array (or None) per spec.

    Frames before `start_frame` are decoded but not converted; decoding stops at `end_frame`. Times are
    seconds since the first video frame, from timestamps (so VFR and delayed starts are right).
    """
    DECODES[str(path)] += 1
    result = DecodeResult()
    with av.open(str(path)) as container:
        stream = pick_stream(container)
        stream.thread_type = "AUTO"
        decoded = _frames_ahead(container, stream)
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
                if index < start_frame:
                    continue
                wanted = [sampler.due(t - result.times[start_frame]) for sampler in samplers]
                if any(wanted):
                    on_frame(index, t, _convert(frame, specs, wanted, result, scalers))
    result.num_frames = len(result.times)
    return result


AHEAD = 8
"""Decoded frames the background decoder may hold ahead of the consumers (8 x 3 MB of 1080p yuv420p)."""

_DONE = object()


def _frames_ahead(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                  ahead: int = AHEAD) -> Iterator[av.VideoFrame]:
    """`container.decode(stream)`, decoded by a background thread up to `ahead` frames early.

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
            for frame in container.decode(stream):
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


def _frame_time(frame: av.VideoFrame, fps: float, last_t: float) -> float:
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
