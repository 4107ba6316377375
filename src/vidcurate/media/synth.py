"""Synthetic sample videos with exact ground truth, for the test-suite and `vidcurate samples`.

Every file is drawn from a seeded numpy Generator (textured noise plus shapes, so scene detectors, optical
flow and OCR have something to work on) and encoded with PyAV/libx264 (`ultrafast`, one thread, which
makes the bytes reproducible for a given seed). `generate` writes the curated set and its
`ground_truth.json`; `generate_bulk` writes many tiny distinct files for executor and resume tests.
"""

from __future__ import annotations

import json
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

GROUND_TRUTH_NAME = "ground_truth.json"

VFR_TIME_BASE = Fraction(1, 90000)

AUDIO_RATE = 48000
AUDIO_TONE_HZ = 440.0

CONVENTIONS = {
    "frames": "0-based indices of decoded frames; ranges [a, b] are inclusive",
    "transitions": "frames that blend two shots or a shot and black; the frames either side are pure",
    "cuts": "index of the first frame of each new shot after a hard cut",
    "text_boxes": "[x0, y0, x1, y1] in display pixels, x1/y1 exclusive, tight around the drawn glyphs",
    "rotation": (
        "degrees clockwise the stored frame must be turned for display (the classic `rotate` tag); "
        "the display matrix written to the file holds the counter-clockwise angle -rotation, which is "
        "what PyAV's VideoFrame.rotation and av_display_rotation_get report"
    ),
    "width_height": "display size, after sample aspect ratio and rotation; coded_* is the stored size",
    "cmotion": (
        "camera motion; pan_left means the camera moves left so content moves right in the frame, "
        "pan_right the opposite; tilt_up means the camera moves up so content moves down; zoom_in "
        "magnifies content over time"
    ),
    "motion_px_per_frame": (
        "speed of moving content: objects for static-camera files (constant except at wall bounces), "
        "the whole frame for pans and tilts; null for zooms"
    ),
    "duration": "seconds from the first frame's timestamp to the end of the last frame",
}

PALETTE: dict[str, tuple[int, int, int]] = {
    "orange": (235, 125, 40),
    "forest": (35, 115, 50),
    "sky": (95, 165, 240),
    "purple": (95, 35, 125),
    "sand": (225, 205, 150),
    "teal": (20, 140, 140),
    "crimson": (175, 25, 45),
    "slate": (95, 105, 120),
}


@dataclass(frozen=True)
class _Encoding:
    """Checked write_video settings."""

    fps: float
    codec: str
    pix_fmt: str
    rotation: int
    sar: tuple[int, int] | None
    timing: list[tuple[int, int]] | None
    audio_seconds: float | None
    crf: int
    gop: int | None
    faststart: bool
    bframes: int


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float = 24,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    sar: tuple[int, int] | None = None,
    pts_seconds: Sequence[float] | None = None,
    audio_seconds: float | None = None,
    crf: int = 18,
    gop: int | None = None,
    faststart: bool = False,
    bframes: int = 0,
) -> None:
    """Encode RGB uint8 frames (H, W, 3) to a file.

    `pts_seconds` gives each frame's timestamp (variable frame rate; the last frame lasts as long as the
    gap before it). `rotation` is clockwise degrees for display, stored as a display matrix. `sar` sets the
    sample aspect ratio. `audio_seconds` adds a mono AAC sine track. `gop` is the keyframe interval in
    frames (default: two seconds). `faststart` puts the mp4 index first. `bframes` allows that many
    consecutive B-frames (libx264/libx265; some are then non-reference frames, as in most real footage).
    libx264 runs `ultrafast` on one thread so output bytes are reproducible. A failed write leaves no file behind.
    """
    it = iter(frames)
    try:
        first = _check_frame(next(it))
    except StopIteration:
        raise ValueError("write_video needs at least one frame") from None
    height, width = first.shape[:2]
    if pix_fmt in ("yuv420p", "nv12") and (width % 2 or height % 2):
        raise ValueError(f"{pix_fmt} needs even width and height, got {width}x{height}")
    timing = _vfr_ticks(pts_seconds) if pts_seconds is not None else None
    spec = _Encoding(fps, codec, pix_fmt, rotation, sar, timing, audio_seconds, crf, gop, faststart, bframes)
    try:
        _encode(Path(path), first, it, spec)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def _encode(path: Path, first: np.ndarray, rest: Iterator[np.ndarray], spec: _Encoding) -> None:
    """The body of write_video, once arguments are checked; may leave a partial file on error."""
    height, width = first.shape[:2]
    timing = spec.timing
    rate = Fraction(spec.fps).limit_denominator(1001)
    container_options = {"movflags": "+faststart"} if spec.faststart else {}
    with av.open(str(path), mode="w", options=container_options) as container:
        codec_options = {"preset": "ultrafast", "crf": str(spec.crf)}
        if spec.codec == "libx265":
            codec_options["x265-params"] = "log-level=error"
        stream = container.add_stream(
            spec.codec, rate=rate, options=codec_options if spec.codec in ("libx264", "libx265") else {}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, spec.pix_fmt
        stream.codec_context.thread_count = 1
        if spec.bframes:
            stream.codec_context.max_b_frames = spec.bframes
        stream.codec_context.gop_size = spec.gop if spec.gop is not None else max(1, round(2 * float(rate)))
        if spec.sar is not None:
            stream.codec_context.sample_aspect_ratio = Fraction(*spec.sar)
        if spec.rotation % 360:
            stream.set_display_rotation(-float(spec.rotation))
        if timing is not None:
            stream.codec_context.time_base = VFR_TIME_BASE
        audio = _AudioTrack(container, spec.audio_seconds) if spec.audio_seconds else None
        durations = dict(timing) if timing is not None else {}

        def mux(packets: list[av.Packet]) -> None:
            # libx264 does not carry frame durations to packets; without this the muxer guesses the
            # last frame's duration from the nominal rate and the VFR file's length is off.
            for packet in packets:
                if packet.pts in durations:
                    packet.duration = durations[packet.pts]
            container.mux(packets)

        count = 0
        for index, array in enumerate(_chain(first, rest)):
            frame = av.VideoFrame.from_ndarray(_check_frame(array, (height, width)), format="rgb24")
            if timing is not None:
                if index >= len(timing):
                    raise ValueError(f"more frames than pts_seconds ({len(timing)})")
                frame.pts, frame.duration = timing[index]
                frame.time_base = VFR_TIME_BASE
                end_s = float((frame.pts + frame.duration) * VFR_TIME_BASE)
            else:
                end_s = (index + 1) / float(rate)
            mux(stream.encode(frame))
            count += 1
            if audio is not None:
                audio.write_until(end_s)
        mux(stream.encode(None))
        if timing is not None and count != len(timing):
            raise ValueError(f"got {count} frames for {len(timing)} pts_seconds")
        if audio is not None:
            audio.finish()


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Yield the peeked first frame, then the rest."""
    yield first
    yield from rest


def _check_frame(array: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Reject frames that are not contiguous RGB uint8 of the expected size."""
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"frames must be (H, W, 3) uint8 RGB, got {array.dtype} {array.shape}")
    if shape is not None and array.shape[:2] != shape:
        raise ValueError(f"frame size changed from {shape} to {array.shape[:2]}")
    return np.ascontiguousarray(array)


def _vfr_ticks(pts_seconds: Sequence[float]) -> list[tuple[int, int]]:
    """(pts, duration) in VFR_TIME_BASE ticks per frame; the last frame lasts as long as the gap before it."""
    ticks = [round(t * VFR_TIME_BASE.denominator) for t in pts_seconds]
    gaps = [b - a for a, b in pairwise(ticks)]
    if any(g <= 0 for g in gaps):
        raise ValueError("pts_seconds must be strictly increasing")
    gaps.append(gaps[-1] if gaps else round(1 / (30 * VFR_TIME_BASE)))
    return list(zip(ticks, gaps, strict=True))


class _AudioTrack:
    """A mono AAC sine track encoded alongside the video so the muxer can interleave."""

    def __init__(self, container: Any, seconds: float) -> None:
        self.stream = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        self.stream.codec_context.thread_count = 1
        self.container = container
        self.total = round(seconds * AUDIO_RATE)
        self.done = 0

    def write_until(self, seconds: float) -> None:
        """Encode whole AAC frames up to `seconds` (or the track end)."""
        target = min(self.total, round(seconds * AUDIO_RATE))
        size = self.stream.codec_context.frame_size or 1024
        while self.done < target:
            n = min(size, self.total - self.done)
            t = (self.done + np.arange(n)) / AUDIO_RATE
            samples = (0.3 * np.sin(2 * np.pi * AUDIO_TONE_HZ * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = self.done
            frame.time_base = Fraction(1, AUDIO_RATE)
            self.container.mux(self.stream.encode(frame))
            self.done += n

    def finish(self) -> None:
        """Encode the rest of the track and flush the encoder."""
        self.write_until(self.total / AUDIO_RATE)
        self.container.mux(self.stream.encode(None))


def texture(rng: np.random.Generator, height: int, width: int, colour: Sequence[int]) -> np.ndarray:
    """A textured RGB image tinted by `colour`: smooth colour blobs, fine detail, grain and shapes."""
    base = np.asarray(colour, np.float32)
    blobs = cv2.resize(
        rng.random((max(2, height // 24), max(2, width // 24), 3), dtype=np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    detail = cv2.resize(
        rng.random((max(2, height // 4), max(2, width // 4)), dtype=np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    img = base * (0.45 + 0.55 * blobs) * (0.65 + 0.6 * detail[..., None])
    img += rng.normal(0.0, 6.0, (height, width, 1)).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(max(4, height * width // 2500)):
        shade = np.clip(base * rng.uniform(0.25, 1.7), 0, 255)
        if rng.random() < 0.15:
            shade = np.full(3, 255.0 if rng.random() < 0.5 else 0.0)
        color = tuple(int(c) for c in shade)
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(2, max(3, min(width, height) // 5)))
        thickness = -1 if rng.random() < 0.6 else int(rng.integers(1, 4))
        shape = rng.integers(0, 3)
        if shape == 0:
            cv2.circle(out, (cx, cy), size, color, thickness, cv2.LINE_AA)
        elif shape == 1:
            cv2.rectangle(out, (cx, cy), (cx + size, cy + int(rng.integers(2, size + 3))), color, thickness)
        else:
            end = (cx + int(rng.integers(-2 * size, 2 * size)), cy + int(rng.integers(-2 * size, 2 * size)))
            cv2.line(out, (cx, cy), end, color, max(1, thickness), cv2.LINE_AA)
    return out


@dataclass
class _Sprite:
    """A textured disc or square that moves at constant velocity and bounces off the frame edges."""

    patch: np.ndarray
    mask: np.ndarray
    x0: float
    y0: float
    vx: float
    vy: float

    def position(self, t: float, width: int, height: int) -> tuple[int, int]:
        """Top-left corner at time `t` (frames)."""
        size = self.patch.shape[0]
        return (
            round(_bounce(self.x0 + self.vx * t, width - size)),
            round(_bounce(self.y0 + self.vy * t, height - size)),
        )


def _bounce(p: float, hi: float) -> float:
    """Fold an unbounded coordinate into [0, hi] as a ball bouncing between walls."""
    if hi <= 0:
        return 0.0
    u = p % (2 * hi)
    return u if u <= hi else 2 * hi - u


@dataclass
class _Scene:
    """A static textured background with moving sprites and optional per-frame sensor grain."""

    background: np.ndarray
    sprites: list[_Sprite] = field(default_factory=list)
    grain: int = 0

    def render(self, t: float, rng: np.random.Generator | None = None) -> np.ndarray:
        """The frame at time `t` (in frames of the nominal rate)."""
        frame = self.background.copy()
        height, width = frame.shape[:2]
        for sp in self.sprites:
            x, y = sp.position(t, width, height)
            size = sp.patch.shape[0]
            np.copyto(frame[y : y + size, x : x + size], sp.patch, where=sp.mask[..., None])
        if self.grain and rng is not None:
            noise = rng.integers(-self.grain, self.grain + 1, (height, width, 1), dtype=np.int16)
            frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        return frame


def _scene(
    rng: np.random.Generator,
    height: int,
    width: int,
    colour: str,
    *,
    speed: float = 0.0,
    sprites: int = 3,
    sprite_colours: Sequence[str] = ("sand", "crimson", "sky"),
    grain: int = 0,
) -> _Scene:
    """Build a scene; sprites move along the axes at exactly `speed` px/frame (none when speed is 0)."""
    background = texture(rng, height, width, PALETTE[colour])
    items: list[_Sprite] = []
    if speed > 0:
        size = max(8, (min(height, width) * 2 // 5) // 2 * 2)
        directions = [(1, 0), (0, 1), (-1, 0), (0, -1)]
        for k in range(sprites):
            patch = texture(rng, size, size, PALETTE[sprite_colours[k % len(sprite_colours)]])
            mask = np.zeros((size, size), np.uint8)
            if k % 2 == 0:
                cv2.circle(mask, (size // 2, size // 2), size // 2 - 1, 1, -1)
            else:
                mask[:] = 1
            dx, dy = directions[k % len(directions)]
            items.append(
                _Sprite(
                    patch=patch,
                    mask=mask.astype(bool),
                    x0=float(rng.integers(0, max(1, width - size))),
                    y0=float(rng.integers(0, max(1, height - size))),
                    vx=dx * speed,
                    vy=dy * speed,
                )
            )
    return _Scene(background, items, grain)


@dataclass
class _Sample:
    """One file of the set: how to draw it, how to encode it, and what it is."""

    frames: Callable[[], Iterator[np.ndarray]]
    truth: dict[str, Any]
    encode: dict[str, Any] = field(default_factory=dict)


def _truth(
    kind: str,
    coded: tuple[int, int],
    fps: float,
    num_frames: int,
    *,
    rotation: int = 0,
    sar: tuple[int, int] = (1, 1),
    duration: float | None = None,
    vfr: bool = False,
    has_audio: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A ground-truth record with every standard key; `extra` overrides or adds keys."""
    width, height = round(coded[0] * sar[0] / sar[1]), coded[1]
    if rotation % 180 == 90:
        width, height = height, width
    record: dict[str, Any] = {
        "kind": kind,
        "width": width,
        "height": height,
        "coded_width": coded[0],
        "coded_height": coded[1],
        "fps": float(fps),
        "num_frames": num_frames,
        "duration": round(duration if duration is not None else num_frames / fps, 6),
        "rotation": rotation % 360,
        "sar": f"{sar[0]}:{sar[1]}",
        "vfr": vfr,
        "has_audio": has_audio,
        "cuts": [],
        "transitions": [],
        "cmotion": "static",
        "motion_px_per_frame": 0.0,
        "text_boxes": [],
        "black_frames": [],
        "frozen_frames": [],
        "duplicate_of": None,
        "near_duplicate_of": None,
        "broken": None,
    }
    record.update(extra)
    return record


def _shots_video(
    rng: np.random.Generator,
    size: tuple[int, int],
    fps: float,
    bounds: Sequence[int],
    colours: Sequence[str],
    speed: float,
) -> _Sample:
    """Hard cuts: shot k covers frames [bounds[k], bounds[k+1]) and uses palette colours[k]."""
    width, height = size
    scenes = [_scene(rng, height, width, c, speed=speed, sprite_colours=colours[::-1]) for c in colours]

    def frames() -> Iterator[np.ndarray]:
        for k, scene in enumerate(scenes):
            for i in range(bounds[k], bounds[k + 1]):
                yield scene.render(i - bounds[k])

    shots = [[bounds[k], bounds[k + 1] - 1] for k in range(len(colours))]
    truth = _truth(
        "cuts",
        size,
        fps,
        bounds[-1],
        cuts=list(bounds[1:-1]),
        shots=shots,
        shot_palettes=list(colours),
        motion_px_per_frame=float(speed),
    )
    return _Sample(frames, truth)


def _luma_cut(rng: np.random.Generator) -> _Sample:
    """A cut between shots with the same luma histogram but different texture and chroma."""
    width, height, fps, n, cut = 320, 180, 24.0, 72, 36
    luma_a = cv2.cvtColor(texture(rng, height, width, (128, 128, 128)), cv2.COLOR_RGB2GRAY)
    luma_a = cv2.normalize(luma_a, None, 55, 190, cv2.NORM_MINMAX)
    luma_b = cv2.cvtColor(texture(rng, height, width, (128, 128, 128)), cv2.COLOR_RGB2GRAY)
    flat = np.empty(luma_a.size, np.uint8)
    flat[np.argsort(luma_b.ravel(), kind="stable")] = np.sort(luma_a.ravel())
    luma_b = flat.reshape(luma_a.shape)

    def colourise(luma: np.ndarray, cr: int, cb: int) -> np.ndarray:
        ycrcb = np.stack([luma, np.full_like(luma, cr), np.full_like(luma, cb)], axis=-1)
        return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)

    shot_a = _Scene(colourise(luma_a, 160, 100), grain=1)
    shot_b = _Scene(colourise(luma_b, 100, 158), grain=1)
    frame_rng = np.random.default_rng(rng.integers(1 << 32))

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield (shot_a if i < cut else shot_b).render(i, frame_rng)

    truth = _truth(
        "cuts", (width, height), fps, n, cuts=[cut], shots=[[0, cut - 1], [cut, n - 1]], luma_similar_cut=True
    )
    return _Sample(frames, truth)


def _blend_video(rng: np.random.Generator, kind: str) -> _Sample:
    """A cross-dissolve between two shots, or a fade to black, a black hold and a fade from black."""
    width, height, fps, n = 320, 180, 24.0, 96
    a = _scene(rng, height, width, "forest", speed=2)
    b = _scene(rng, height, width, "orange", speed=2)
    if kind == "dissolve":
        first, last = 36, 59
        extra: dict[str, Any] = {"transitions": [[first, last]]}

        def alpha(i: int) -> float:
            return float(np.clip((i - first + 1) / (last - first + 2), 0, 1))

        def frames() -> Iterator[np.ndarray]:
            for i in range(n):
                w = alpha(i)
                fa, fb = a.render(i), b.render(i)
                yield fa if w == 0 else fb if w == 1 else cv2.addWeighted(fa, 1 - w, fb, w, 0)
    else:
        out_range, black, in_range = (36, 47), (48, 51), (52, 63)
        extra = {
            "transitions": [list(out_range), list(in_range)],
            "fade_out": list(out_range),
            "fade_in": list(in_range),
            "black_frames": [list(black)],
        }

        def gain(i: int) -> float:
            if i < out_range[0] or i > in_range[1]:
                return 1.0
            if i <= out_range[1]:
                return (out_range[1] + 1 - i) / (out_range[1] - out_range[0] + 2)
            if i < in_range[0]:
                return 0.0
            return (i - in_range[0] + 1) / (in_range[1] - in_range[0] + 2)

        def frames() -> Iterator[np.ndarray]:
            for i in range(n):
                src = a.render(i) if i <= out_range[1] else b.render(i)
                g = gain(i)
                yield src if g == 1 else np.zeros_like(src) if g == 0 else cv2.convertScaleAbs(src, alpha=g)

    return _Sample(frames, _truth(kind, (width, height), fps, n, motion_px_per_frame=2.0, **extra))


def _motion(rng: np.random.Generator, kind: str, speed: float) -> _Sample:
    """Static camera; textured objects move at `speed` px/frame (static: only sensor grain)."""
    width, height, fps, n = 320, 180, 24.0, 72
    scene = _scene(rng, height, width, "teal", speed=speed, grain=1 if speed == 0 else 0)
    frame_rng = np.random.default_rng(rng.integers(1 << 32))

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield scene.render(i, frame_rng)

    truth = _truth(
        kind, (width, height), fps, n, motion_px_per_frame=float(speed), moving_area_ratio=_moving_area(scene)
    )
    return _Sample(frames, truth)


def _moving_area(scene: _Scene) -> float:
    """Fraction of the frame covered by moving sprites (their masks, ignoring overlaps)."""
    area = sum(int(sp.mask.sum()) for sp in scene.sprites)
    return round(area / (scene.background.shape[0] * scene.background.shape[1]), 4)


def _camera(rng: np.random.Generator, kind: str) -> _Sample:
    """Camera motion over a static textured canvas: crop-window pans/tilts or a centred zoom."""
    width, height, fps, n = 320, 180, 24.0, 72
    speed, zoom_total = 3, 1.6
    canvas_w = width + (speed * (n - 1) if kind.startswith("pan") else 0)
    canvas_h = height + (speed * (n - 1) if kind.startswith("tilt") else 0)
    canvas = texture(rng, canvas_h, canvas_w, PALETTE["sand"])
    travel_x, travel_y = canvas_w - width, canvas_h - height
    per_frame = zoom_total ** (1 / (n - 1))

    def window(i: int) -> np.ndarray:
        if kind == "pan_left":
            return canvas[:, travel_x - speed * i : travel_x - speed * i + width]
        if kind == "pan_right":
            return canvas[:, speed * i : speed * i + width]
        if kind == "tilt_up":
            return canvas[travel_y - speed * i : travel_y - speed * i + height]
        if kind == "tilt_down":
            return canvas[speed * i : speed * i + height]
        scale = per_frame ** (i if kind == "zoom_in" else n - 1 - i)
        cx, cy = (width - 1) / 2, (height - 1) / 2
        matrix = np.float32([[scale, 0, cx - scale * cx], [0, scale, cy - scale * cy]])
        return cv2.warpAffine(canvas, matrix, (width, height), flags=cv2.INTER_LINEAR)

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield np.ascontiguousarray(window(i))

    zoom = kind.startswith("zoom")
    extra = {"zoom_per_frame": round(per_frame if kind == "zoom_in" else 1 / per_frame, 6)} if zoom else {}
    truth = _truth(
        kind,
        (width, height),
        fps,
        n,
        cmotion=kind,
        motion_px_per_frame=None if zoom else float(speed),
        **extra,
    )
    return _Sample(frames, truth)


TEXT_LINES = ("OPEN DATA", "TEXT TEST 42")


def _text(rng: np.random.Generator, with_text: bool) -> _Sample:
    """Large burned-in text lines over a subdued texture; the textless twin shares the background."""
    width, height, fps, n = 320, 180, 24.0, 48
    tex = texture(rng, height, width, PALETTE["slate"])
    background = cv2.addWeighted(tex, 0.5, np.full_like(tex, 90), 0.5, 0)
    boxes: list[list[int]] = []
    if with_text:
        font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 1.2, 3
        for line, (x, y) in zip(TEXT_LINES, [(24, 64), (24, 134)], strict=True):
            mask = np.zeros((height, width), np.uint8)
            cv2.putText(mask, line, (x, y), font, scale, 255, thick + 4, cv2.LINE_AA)
            background[mask > 0] = (background[mask > 0] * 0.2).astype(np.uint8)
            cv2.putText(background, line, (x, y), font, scale, (255, 255, 255), thick, cv2.LINE_AA)
            ys, xs = np.nonzero(mask)
            boxes.append([int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
    scene = _Scene(background, grain=1)
    frame_rng = np.random.default_rng(rng.integers(1 << 32))

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield scene.render(i, frame_rng)

    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes) / (width * height)
    truth = _truth(
        "text" if with_text else "notext",
        (width, height),
        fps,
        n,
        text_boxes=boxes,
        text_lines=list(TEXT_LINES) if with_text else [],
        text_area_ratio=round(area, 4),
    )
    return _Sample(frames, truth)


def _plain(
    rng: np.random.Generator,
    kind: str,
    size: tuple[int, int],
    fps: float,
    n: int,
    colour: str = "purple",
    speed: float = 2.0,
    **truth: Any,
) -> _Sample:
    """Static camera, moving objects; the baseline for the geometry and container variants."""
    scene = _scene(rng, size[1], size[0], colour, speed=speed)

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield scene.render(i)

    return _Sample(frames, _truth(kind, size, fps, n, motion_px_per_frame=speed, **truth))


MARKER = 24


def _rotated(rng: np.random.Generator) -> _Sample:
    """Display 180x320 portrait, stored 320x180 with rotation 90; a white square marks display top-left."""
    disp_w, disp_h, fps, n = 180, 320, 24.0, 48
    scene = _scene(rng, disp_h, disp_w, "crimson", speed=2)

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            upright = scene.render(i)
            upright[:MARKER, :MARKER] = 255
            yield np.ascontiguousarray(np.rot90(upright, k=1))

    truth = _truth(
        "rotated",
        (disp_h, disp_w),
        fps,
        n,
        rotation=90,
        motion_px_per_frame=2.0,
        display_matrix_rotation=-90,
        marker_box=[0, 0, MARKER, MARKER],
    )
    return _Sample(frames, truth, {"rotation": 90})


def _sar(rng: np.random.Generator) -> _Sample:
    """Display 320x180 squeezed into 240x180 coded pixels with sample aspect ratio 4:3."""
    coded_w, height, fps, n = 240, 180, 24.0, 48
    scene = _scene(rng, height, 320, "sky", speed=2)

    def frames() -> Iterator[np.ndarray]:
        for i in range(n):
            yield cv2.resize(scene.render(i), (coded_w, height), interpolation=cv2.INTER_AREA)

    truth = _truth("sar", (coded_w, height), fps, n, sar=(4, 3), motion_px_per_frame=2.0)
    return _Sample(frames, truth, {"sar": (4, 3)})


def _vfr(rng: np.random.Generator) -> _Sample:
    """Variable frame rate: frame gaps drawn from 20/33/50/100 ms; objects move at a constant px/s."""
    width, height, n = 320, 180, 60
    gaps_ms = rng.choice(np.array([20, 33, 50, 100]), size=n)
    ticks = np.concatenate([[0], np.cumsum(gaps_ms[:-1])]) * 90
    stamps = [float(Fraction(int(t)) * VFR_TIME_BASE) for t in ticks]
    duration = stamps[-1] + (stamps[-1] - stamps[-2])
    px_per_s = 48.0
    scene = _scene(rng, height, width, "forest", speed=px_per_s / 24)

    def frames() -> Iterator[np.ndarray]:
        for t in stamps:
            yield scene.render(t * 24)

    truth = _truth(
        "vfr",
        (width, height),
        round(n / duration, 6),
        n,
        duration=duration,
        vfr=True,
        timestamps=[round(t, 6) for t in stamps],
        motion_px_per_frame=None,
        motion_px_per_second=px_per_s,
        nominal_fps=24.0,
    )
    return _Sample(frames, truth, {"pts_seconds": stamps, "fps": 24})


def _audio(rng: np.random.Generator) -> _Sample:
    """A 3 s video with a 3 s mono 440 Hz AAC track."""
    sample = _plain(
        rng,
        "audio",
        (320, 180),
        25.0,
        75,
        colour="sand",
        has_audio=True,
        audio_seconds=3.0,
        audio_sample_rate=AUDIO_RATE,
        audio_tone_hz=AUDIO_TONE_HZ,
    )
    sample.encode = {"audio_seconds": 3.0}
    return sample


def _quality(rng: np.random.Generator) -> _Sample:
    """Moving content with a black segment (frames 24-39) and a frozen segment (64-87)."""
    width, height, fps, n = 320, 180, 24.0, 96
    black, frozen = (24, 39), (64, 87)
    scene = _scene(rng, height, width, "orange", speed=3)

    def frames() -> Iterator[np.ndarray]:
        held = scene.render(frozen[0])
        for i in range(n):
            if black[0] <= i <= black[1]:
                yield np.zeros((height, width, 3), np.uint8)
            elif frozen[0] <= i <= frozen[1]:
                yield held
            else:
                yield scene.render(i)

    truth = _truth(
        "quality",
        (width, height),
        fps,
        n,
        cuts=[black[0], black[1] + 1],
        black_frames=[list(black)],
        frozen_frames=[list(frozen)],
        motion_px_per_frame=3.0,
    )
    return _Sample(frames, truth)


SAMPLES: dict[str, Callable[[np.random.Generator], _Sample]] = {
    "cuts/three_cuts.mp4": lambda r: _shots_video(
        r, (320, 180), 24.0, [0, 30, 54, 90, 120], ["orange", "forest", "sky", "purple"], 2
    ),
    "cuts/two_cuts_small.mp4": lambda r: _shots_video(
        r, (160, 90), 30.0, [0, 20, 45, 75], ["crimson", "teal", "sand"], 1
    ),
    "cuts/luma_cut.mp4": _luma_cut,
    "cuts/dissolve.mp4": lambda r: _blend_video(r, "dissolve"),
    "cuts/fade.mp4": lambda r: _blend_video(r, "fade"),
    "motion/static.mp4": lambda r: _motion(r, "static", 0),
    "motion/slow.mp4": lambda r: _motion(r, "slow", 1),
    "motion/fast.mp4": lambda r: _motion(r, "fast", 12),
    **{
        f"camera/{k}.mp4": (lambda r, k=k: _camera(r, k))
        for k in ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
    },
    "text/text.mp4": lambda r: _text(r, True),
    "text/notext.mp4": lambda r: _text(r, False),
    "odd/portrait.mp4": lambda r: _plain(r, "portrait", (180, 320), 30.0, 60),
    "odd/landscape.mp4": lambda r: _plain(r, "landscape", (320, 180), 30.0, 60, colour="teal"),
    "odd/odd_size.mp4": lambda r: _plain(r, "odd_size", (202, 114), 24.0, 48, colour="sky"),
    "odd/rotated.mp4": _rotated,
    "odd/sar.mp4": _sar,
    "odd/vfr.mp4": _vfr,
    "odd/audio.mp4": _audio,
    "quality/black_frozen.mp4": _quality,
}

SHARED_RNG = {"text/notext.mp4": "text/text.mp4"}
"""Files drawn from another file's generator, so twins share background and grain."""

DUPLICATE_SOURCE = "motion/slow.mp4"
TRUNCATED_SOURCE = "cuts/three_cuts.mp4"
NEAR_DUPLICATE_SIZE = (288, 162)
NEAR_DUPLICATE_CRF = 30


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator per file, so each file depends only on the seed and its name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def generate(out_dir: str | Path, *, seed: int = 0) -> dict:
    """Write the sample set into out_dir plus out_dir/ground_truth.json; return the ground-truth dict.

    See CONVENTIONS (also stored in the JSON) for the meaning of frames, boxes, rotation and motion.
    """
    root = Path(out_dir)
    videos: dict[str, dict[str, Any]] = {}
    for rel, build in SAMPLES.items():
        sample = build(_rng(seed, SHARED_RNG.get(rel, rel)))
        _write_sample(root / rel, sample)
        videos[rel] = sample.truth
    videos.update(_write_duplicates(root, seed, videos[DUPLICATE_SOURCE]))
    videos.update(_write_broken(root, seed))
    truth = {"version": 1, "seed": seed, "conventions": CONVENTIONS, "videos": videos}
    (root / GROUND_TRUTH_NAME).write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth


def _write_duplicates(root: Path, seed: int, source: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A byte copy of DUPLICATE_SOURCE and a smaller, lower-quality re-encode of the same frames."""
    copy_rel, near_rel = "dup/slow_copy.mp4", "dup/slow_near.mp4"
    (root / copy_rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / DUPLICATE_SOURCE, root / copy_rel)

    near = SAMPLES[DUPLICATE_SOURCE](_rng(seed, DUPLICATE_SOURCE))
    source_frames = near.frames
    near.frames = lambda: (cv2.resize(f, NEAR_DUPLICATE_SIZE, interpolation=cv2.INTER_AREA) for f in source_frames())
    near.encode["crf"] = NEAR_DUPLICATE_CRF
    _write_sample(root / near_rel, near)
    width, height = NEAR_DUPLICATE_SIZE
    return {
        copy_rel: {**source, "kind": "duplicate", "duplicate_of": DUPLICATE_SOURCE},
        near_rel: {
            **source,
            "kind": "near_duplicate",
            "near_duplicate_of": DUPLICATE_SOURCE,
            "width": width,
            "height": height,
            "coded_width": width,
            "coded_height": height,
            "motion_px_per_frame": source["motion_px_per_frame"] * width / source["width"],
            "crf": NEAR_DUPLICATE_CRF,
        },
    }


def _write_broken(root: Path, seed: int) -> dict[str, dict[str, Any]]:
    """Files that must fail: cut in half (index at the end, or first), empty, and text named .mp4.

    `truncated_tail.mp4` keeps its index (faststart), so it opens and its header promises every frame,
    but decoding stops with an error about halfway.
    """
    broken = root / "broken"
    broken.mkdir(parents=True, exist_ok=True)
    data = (root / TRUNCATED_SOURCE).read_bytes()
    (broken / "truncated.mp4").write_bytes(data[: len(data) // 2])
    tail = SAMPLES[TRUNCATED_SOURCE](_rng(seed, TRUNCATED_SOURCE))
    tail.encode["faststart"] = True
    _write_sample(broken / "truncated_tail.mp4", tail)
    data = (broken / "truncated_tail.mp4").read_bytes()
    (broken / "truncated_tail.mp4").write_bytes(data[: len(data) // 2])
    (broken / "empty.mp4").write_bytes(b"")
    (broken / "not_video.mp4").write_text("This is plain text, not a video, despite the .mp4 name.\n")
    truncated = {"kind": "truncated", "broken": "truncated", "truncated_from": TRUNCATED_SOURCE}
    return {
        "broken/truncated.mp4": {**truncated, "opens": False},
        "broken/truncated_tail.mp4": {
            **truncated,
            "opens": True,
            "header_num_frames": tail.truth["num_frames"],
            "header_duration": tail.truth["duration"],
        },
        "broken/empty.mp4": {"kind": "empty", "broken": "empty", "opens": False},
        "broken/not_video.mp4": {"kind": "not_video", "broken": "not_video", "opens": False},
    }


def _write_sample(path: Path, sample: _Sample) -> None:
    """Encode one sample, creating its folder; record the keyframe interval used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"fps": sample.truth["fps"], **sample.encode}
    write_video(path, sample.frames(), **kwargs)
    sample.truth.setdefault("keyframe_interval", max(1, round(2 * float(kwargs["fps"]))))


BULK_SIZE = (64, 36)
BULK_FPS = 24.0


def bulk_cuts(num_frames: int) -> list[int]:
    """Cut frames of a `generate_bulk` video with `num_frames` frames (three equal shots)."""
    return [num_frames // 3, 2 * num_frames // 3] if num_frames >= 6 else []


def generate_bulk(out_dir: str | Path, n: int, *, seed: int = 0, seconds: float = 1.0) -> list[Path]:
    """n tiny distinct videos (64x36, 24 fps, hard cuts at `bulk_cuts`) for executor/resume tests.

    Files are named bulk_00000.mp4, ... so the returned list is also their sorted order.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    width, height = BULK_SIZE
    num_frames = max(1, round(seconds * BULK_FPS))
    bounds = [0, *bulk_cuts(num_frames), num_frames]
    names = list(PALETTE)
    paths: list[Path] = []
    for index in range(n):
        rng = np.random.default_rng([seed, index, 0xB01C])
        colours = rng.choice(len(names), size=len(bounds) - 1, replace=False)
        canvases = [texture(rng, height, width + num_frames, PALETTE[names[c]]) for c in colours]

        def frames(canvases: list[np.ndarray] = canvases) -> Iterator[np.ndarray]:
            for k, canvas in enumerate(canvases):
                for i in range(bounds[k], bounds[k + 1]):
                    yield np.ascontiguousarray(canvas[:, i : i + width])

        path = root / f"bulk_{index:05d}.mp4"
        write_video(path, frames(), fps=BULK_FPS)
        paths.append(path)
    return paths
