"""Header probe of one media file with PyAV.

`probe` reads container and stream headers, picks the main video stream and decodes exactly one
frame (the only way PyAV 18 exposes the display matrix, and the proof that the stream decodes at all).
It counts frames only when asked, when the header has no count (Matroska/WebM, MPEG-PS, fragmented
MP4), or when the container's own sample index contradicts the header count (AVI files whose
header length counts dropped frame slots). Counting demuxes packets instead of decoding: see
`count_frames` for the measurements behind that choice.

Returned keys use the manifest's Open-Sora column names; `width`/`height` are the display size.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

log = logging.getLogger(__name__)

CountMethod = Literal["demux", "decode"]

# Demuxers whose stream index lists every sample with its size and file offset, so the index length is
# an independent frame count and the last entry tells whether the file was cut short.
_FULL_INDEX_FORMATS = frozenset({"mov", "avi"})  # first name of the demuxer ("mov,mp4,m4a,...")
# Relative disagreement between counted frames/duration and the header average rate that we accept as
# rounding (timestamps in ms, last-frame duration guessed) rather than a different rate.
_RATE_TOLERANCE = 0.01
# Header frame count vs stream duration * fps: relative gap worth a log line.
_HEADER_GAP_NOTE = 0.10
# Packets fed to the decoder while looking for the first frame before the file is declared undecodable.
_FIRST_FRAME_PACKET_LIMIT = 600


class ProbeError(Exception):
    """A file is not usable video; the message says why (empty, not media, no video, undecodable)."""


@dataclass
class _Scan:
    """What one demux pass over the chosen stream learned (first frame, and a count when asked)."""

    frames: int = 0
    first_pts: int | None = None
    last_pts: int | None = None
    last_duration: int = 0
    nbytes: int = 0
    first_frame: VideoFrame | None = None
    alpha_data: bool | None = None
    decode_error: str | None = None
    read_error: str | None = None

    def span(self, stream: VideoStream, rate: Fraction | None) -> float | None:
        """Seconds from the first pts to the end of the last frame, or None without timestamps."""
        if self.first_pts is None or self.last_pts is None or stream.time_base is None:
            return None
        tail = self.last_duration
        if tail <= 0 and rate:
            tail = round(1 / (rate * stream.time_base))
        return float((self.last_pts + tail - self.first_pts) * stream.time_base)

    def note_pts(self, pts: int | None, duration: int | None) -> None:
        """Track the earliest pts and the latest pts with its duration (B-frames arrive out of order)."""
        if pts is None:
            return
        if self.first_pts is None or pts < self.first_pts:
            self.first_pts = pts
        if self.last_pts is None or pts >= self.last_pts:
            self.last_pts = pts
            self.last_duration = duration or 0


def best_video_stream(container: InputContainer) -> VideoStream:
    """Pick the main video stream of an open container, not blindly stream 0.

    Cover art (disposition ``attached_pic``) is never chosen. Among the rest the order is: a decoder
    exists, not a still image or thumbnail track, default disposition, largest coded area, longest
    duration in seconds, most header frames, lowest index. Multi-rendition files (e.g. a 320x180 and a
    480x270 track, both default) thus yield the larger rendition.
    """
    candidates = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
    if not candidates:
        raise ProbeError("no video stream (only cover art)" if container.streams.video else "no video stream")

    def rank(s: VideoStream) -> tuple[Any, ...]:
        cc = s.codec_context
        area = cc.width * cc.height if cc is not None else 0
        seconds = float(s.duration * s.time_base) if s.duration and s.time_base else 0.0
        still = bool(s.disposition & (Disposition.still_image | Disposition.timed_thumbnails))
        return (
            cc is not None,
            not still,
            bool(s.disposition & Disposition.default),
            area,
            seconds,
            s.frames or 0,
            -s.index,
        )

    return max(candidates, key=rank)


def count_frames(
    path: str | Path, stream_index: int | None = None, *, method: CountMethod = "demux"
) -> tuple[int, float]:
    """Exact frame count and true duration (last pts + its frame duration - first pts) of a video stream.

    ``method="demux"`` (default) counts the stream's packets that carry data and are neither discarded
    (edit lists) nor flagged corrupt (the cut-off last packet of a truncated file) without decoding them;
    ``"decode"`` decodes every frame. On the 29-file reference set (H.264 incl. High10, HEVC, AV1, VP8,
    VP9 with alpha, MPEG-4 Part 2 in AVI, MPEG-2 PS, Cinepak; B-frames, VFR, delayed start, a
    two-rendition MP4, an AVI whose header counts dropped frames) both give identical counts and spans on
    all 30 video streams, while demuxing takes about 1/50 of the decode time (see benchmarks/probe.py).
    Demuxing could still overcount where an intact packet decodes to nothing (VP9 hidden frames outside
    superframes, H.264 fields sent as separate packets, damaged data); ``"decode"`` covers those. It keeps
    the decoder's slice threading: frame threading was seen to drop the frames in flight when a packet
    fails to decode. ``stream_index`` defaults to `best_video_stream`.
    """
    if method not in ("demux", "decode"):
        raise ValueError(f"count_frames: method must be 'demux' or 'decode', not {method!r}")
    p = Path(path)
    _file_size(p)
    try:
        with _open(p) as container:
            stream = _select_stream(container, stream_index)
            scan = _scan(stream, count=method, want_first=False)
            if scan.read_error and not scan.frames:
                raise ProbeError(f"{_label(p)}: cannot read stream {stream.index}: {scan.read_error}")
            span = scan.span(stream, _header_rate(stream))
            if span is None:
                rate = _header_rate(stream)
                span = scan.frames / float(rate) if rate else 0.0
            return scan.frames, span
    except ProbeError:
        raise
    except (av.FFmpegError, OSError) as e:
        raise ProbeError(f"{_label(p)}: cannot count frames: {e}") from e


def probe(path: str | Path, *, exact_frames: bool = False) -> dict[str, Any]:
    """Header probe of one media file with PyAV; no full decode unless asked or the header lacks a count.

    One frame is decoded (rotation, proof of decodability). Frames are counted by demuxing when
    ``exact_frames`` is set, the header count is missing, or a full sample index (MP4/MOV/AVI)
    disagrees with it or points past the end of the file. Conventions:

    - ``width``/``height``: display size. The coded width is scaled by the sample aspect ratio and
      rounded to the nearest even integer (what ``scale=iw*sar:ih`` and 4:2:0 encoders need; only when
      SAR is not 1:1), then swapped for a 90/270 rotation.
    - ``rotation``: clockwise degrees a player turns the picture (the legacy ``rotate`` tag;
      ``VideoFrame.rotation`` is counter-clockwise), snapped to 0/90/180/270.
    - ``fps``: average frame rate (header ``avg_frame_rate``); after a count, frames/duration replaces it
      when the two differ by more than 1%. Falls back to the guessed, then the base rate.
    - ``duration``: span of the video stream only (not audio, not the container start offset);
      ``start_time``: first video pts in seconds.
    - ``bit_rate``: video stream bit rate, else measured from packet sizes when counted, else the
      container's overall rate, else None.
    - ``pix_fmt``: decoder output format; VP8/VP9 carrying Matroska alpha data reports the ``yuva``
      variant an alpha-aware decoder (libvpx) produces, though FFmpeg's native decoder drops the alpha.
    - ``frames_exact``: True when ``num_frames`` was counted rather than read from the header.
    """
    p = Path(path)
    file_size = _file_size(p)
    try:
        with _open(p) as container:
            return _probe_container(container, p, file_size, exact_frames)
    except ProbeError:
        raise
    except (av.FFmpegError, OSError) as e:
        raise ProbeError(f"{_label(p)}: not a readable media file: {e}") from e


def _probe_container(container: InputContainer, p: Path, file_size: int, exact_frames: bool) -> dict[str, Any]:
    """Fill the probe dict from an open container (see `probe` for the conventions)."""
    stream = best_video_stream(container)
    cc = stream.codec_context
    if cc is None:
        raise ProbeError(f"{_label(p)}: no decoder for video stream {stream.index}")
    tb = stream.time_base
    header_frames = stream.frames or 0
    reason = _count_reason(container, stream, file_size, header_frames, exact_frames)
    scan = _scan(stream, count="demux" if reason else None, want_first=True)
    frame = scan.first_frame
    if frame is None:
        why = scan.decode_error or scan.read_error or "no frame decoded"
        raise ProbeError(f"{_label(p)}: no decodable frame in video stream {stream.index}: {why}")
    counted = reason is not None
    if counted:
        log.debug("%s: counted frames (%s): header %d, counted %d", _label(p), reason, header_frames, scan.frames)
    num_frames = scan.frames if counted else header_frames

    rate = _header_rate(stream)
    duration = scan.span(stream, rate) if counted else None
    if duration is None:
        duration = _header_duration(container, stream, num_frames, rate)
    fps = float(rate) if rate else 0.0
    if counted and duration > 0:
        measured = num_frames / duration
        if not fps or abs(measured - fps) > _RATE_TOLERANCE * fps:
            fps = measured
    elif not counted and header_frames and stream.duration and fps:
        expected = float(stream.duration * tb) * fps
        if abs(expected - header_frames) > max(2.0, _HEADER_GAP_NOTE * header_frames):
            log.info(
                "%s: header says %d frames but duration*fps gives %.1f; keeping header count",
                _label(p),
                header_frames,
                expected,
            )

    if counted and scan.first_pts is not None:
        start_time = float(scan.first_pts * tb)
    elif stream.start_time is not None:
        start_time = float(stream.start_time * tb)
    elif frame.pts is not None:
        start_time = float(frame.pts * frame.time_base)
    else:
        start_time = 0.0

    rotation = (-round(frame.rotation / 90) * 90) % 360
    sar = stream.sample_aspect_ratio or Fraction(1)
    coded_w = frame.width or cc.width
    coded_h = frame.height or cc.height
    width = max(2, 2 * round(coded_w * sar / 2)) if sar != 1 else coded_w
    height = coded_h
    if rotation in (90, 270):
        width, height = height, width

    bit_rate = cc.bit_rate or None
    if not bit_rate and counted and duration > 0 and scan.nbytes:
        bit_rate = round(scan.nbytes * 8 / duration)
    if not bit_rate:
        bit_rate = container.bit_rate or None

    return {
        "num_frames": int(num_frames),
        "fps": fps,
        "width": int(width),
        "height": int(height),
        "aspect_ratio": height / width if width else 0.0,
        "resolution": int(height * width),
        "duration": float(duration),
        "codec": cc.codec.canonical_name,
        "pix_fmt": _pix_fmt(stream, bool(scan.alpha_data)),
        "bit_rate": bit_rate,
        "has_audio": bool(container.streams.audio),
        "file_size": file_size,
        "rotation": int(rotation),
        "sar": f"{sar.numerator}:{sar.denominator}",
        "stream_index": stream.index,
        "num_video_streams": sum(1 for s in container.streams.video if not s.disposition & Disposition.attached_pic),
        "start_time": start_time,
        "frames_exact": counted,
    }


def _file_size(p: Path) -> int:
    """Size in bytes of a regular, non-empty file; ProbeError otherwise."""
    try:
        st = p.stat()
    except OSError as e:
        raise ProbeError(f"{_label(p)}: cannot stat: {e}") from e
    if not p.is_file():
        raise ProbeError(f"{_label(p)}: not a regular file")
    if st.st_size == 0:
        raise ProbeError(f"{_label(p)}: empty file (0 bytes)")
    return st.st_size


def _label(p: Path) -> str:
    """Short name of a path for messages."""
    return p.name or str(p)


def _open(p: Path) -> InputContainer:
    """Open for reading by absolute path (so a ``name:with:colons`` is never taken for a protocol)."""
    return av.open(os.path.abspath(p), metadata_errors="replace")


def _select_stream(container: InputContainer, stream_index: int | None) -> VideoStream:
    """The requested video stream, or the best one when no index is given."""
    if stream_index is None:
        return best_video_stream(container)
    streams = container.streams
    if not 0 <= stream_index < len(streams) or streams[stream_index].type != "video":
        raise ProbeError(f"stream {stream_index} is not a video stream")
    return streams[stream_index]


def _count_reason(
    container: InputContainer, stream: VideoStream, file_size: int, header_frames: int, exact: bool
) -> str | None:
    """Why the header count cannot be used as is (None when it can)."""
    if exact:
        return "asked"
    if header_frames <= 0:
        return "header has no frame count"
    if container.format.name.split(",")[0] not in _FULL_INDEX_FORMATS:
        return None
    entries = stream.index_entries
    n = len(entries) if entries is not None else 0
    if n == 0:
        return None
    if n != header_frames:
        return f"index lists {n} samples"
    last = entries[n - 1]
    if last.pos + last.size > file_size:
        return "index points past end of file"
    return None


def _scan(stream: VideoStream, *, count: CountMethod | None, want_first: bool) -> _Scan:
    """One pass over the stream's packets: decode until the first frame and/or count frames.

    Without ``count`` the pass stops at the first decoded frame. A read error ends the pass (a damaged
    or cut-off container still yields what was readable) and flushes the decoder so frames it holds
    back for reordering are not lost; a decode error only skips its packet.
    """
    scan = _Scan()

    def take(frames: list[VideoFrame]) -> None:
        for frame in frames:
            if scan.first_frame is None:
                scan.first_frame = frame
            if count == "decode":
                scan.frames += 1
                scan.note_pts(frame.pts, frame.duration)

    fed = 0
    try:
        for packet in stream.container.demux(stream):
            if scan.alpha_data is None and packet.size > 0:
                scan.alpha_data = packet.has_sidedata("matroska_block_additional")
            if count == "demux" and packet.size > 0 and not (packet.is_discard or packet.is_corrupt):
                scan.frames += 1
                scan.nbytes += packet.size
                scan.note_pts(packet.pts if packet.pts is not None else packet.dts, packet.duration)
            looking = want_first and scan.first_frame is None and fed < _FIRST_FRAME_PACKET_LIMIT
            if count == "decode" or looking:
                fed += 1
                if count == "decode":
                    scan.nbytes += packet.size
                take(_decode(stream, packet, scan))
                if count is None and scan.first_frame is not None:
                    break
            elif count is None:
                break
    except (av.FFmpegError, OSError) as e:
        scan.read_error = f"{type(e).__name__}: {e}"
        if count == "decode" or (want_first and scan.first_frame is None):
            take(_decode(stream, None, scan))
    return scan


def _decode(stream: VideoStream, packet: av.Packet | None, scan: _Scan) -> list[VideoFrame]:
    """Decode one packet (an empty one flushes); a failure is recorded, not raised."""
    try:
        return stream.decode(packet)
    except av.FFmpegError as e:
        scan.decode_error = f"{type(e).__name__}: {e}"
        return []


def _header_rate(stream: VideoStream) -> Fraction | None:
    """Average frame rate from the header, else FFmpeg's guessed rate, else the base rate."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None


def _header_duration(container: InputContainer, stream: VideoStream, num_frames: int, rate: Fraction | None) -> float:
    """Video duration from headers: stream duration, else container duration less the video start
    offset, else frames / rate."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        seconds = container.duration / av.time_base
        if stream.start_time is not None and stream.time_base and container.start_time is not None:
            seconds -= float(stream.start_time * stream.time_base) - container.start_time / av.time_base
        if seconds > 0:
            return seconds
    return num_frames / float(rate) if rate else 0.0


def _pix_fmt(stream: VideoStream, alpha_data: bool) -> str:
    """Decoder pixel format; VP8/VP9 in Matroska with an ``alpha_mode`` tag whose first packet carries the
    alpha plane (BlockAdditional side data) reports the ``yuva`` format an alpha-aware decoder yields. The
    tag alone is not enough: it is sometimes left on files without alpha data."""
    fmt = stream.codec_context.pix_fmt or ""
    tagged = stream.metadata.get("alpha_mode") == "1" or stream.metadata.get("ALPHA_MODE") == "1"
    if tagged and alpha_data and fmt.startswith("yuv4") and stream.codec_context.codec.canonical_name in ("vp8", "vp9"):
        return "yuva" + fmt[3:]
    return fmt
