"""Tests for vidcurate.media.probe: header fields, display geometry, counting, stream choice, bad files."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vidcurate.media.probe import ProbeError, best_video_stream, count_frames, probe

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared/testdata/external"
VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mpg"}
EXTERNAL_FILES = sorted(p.name for p in EXTERNAL.iterdir() if p.suffix in VIDEO_SUFFIXES) if EXTERNAL.is_dir() else []

needs_external = pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"{EXTERNAL} not present")


def _frame(width: int, height: int, seed: int) -> av.VideoFrame:
    """A random RGB frame (noise keeps every frame a distinct, non-skippable picture)."""
    rng = np.random.default_rng(seed)
    return av.VideoFrame.from_ndarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), format="rgb24")


def _write(
    path: Path,
    *,
    frames: int = 10,
    size: tuple[int, int] = (64, 48),
    rate: int = 25,
    audio: bool = False,
    rotation: int | None = None,
    sar: Fraction | None = None,
    first_pts: int = 0,
    renditions: tuple[tuple[int, int], ...] = (),
    all_default: bool = False,
    cover: bool = False,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode a small libx264 test file; extra renditions, an AAC track and MP4 cover art on request.

    The MP4 muxer marks only the first video track default unless ``all_default`` flags every rendition.
    """
    with av.open(str(path), "w", options=options or {}) as out:
        video = []
        for w, h in (size, *renditions):
            s = out.add_stream("libx264", rate=rate)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            if all_default:
                s.disposition = av.stream.Disposition.default
            video.append(s)
        if rotation is not None:
            video[0].set_display_rotation(rotation)
        if sar is not None:
            video[0].codec_context.sample_aspect_ratio = sar
        if cover:
            pic = out.add_stream("mjpeg", rate=1)
            pic.width, pic.height, pic.pix_fmt = 320, 240, "yuvj420p"
            pic.disposition = av.stream.Disposition.attached_pic
            out.mux(pic.encode(_frame(320, 240, 99)))
            out.mux(pic.encode(None))
        sound = out.add_stream("aac", rate=16000) if audio else None
        for i in range(frames):
            for s in video:
                f = _frame(s.width, s.height, i)
                f.pts, f.time_base = first_pts + i, Fraction(1, rate)
                out.mux(s.encode(f))
            if sound is not None:
                samples = 16000 // rate
                af = av.AudioFrame.from_ndarray(np.zeros((1, samples), np.float32), format="fltp", layout="mono")
                af.sample_rate, af.pts = 16000, i * samples
                out.mux(sound.encode(af))
        for s in (*video, *([sound] if sound is not None else [])):
            out.mux(s.encode(None))
    return path


def test_probe_reports_header_fields_of_plain_h264(tmp_path: Path) -> None:
    path = _write(tmp_path / "plain.mp4")
    r = probe(path)
    assert r["num_frames"] == 10 and r["frames_exact"] is False
    assert r["fps"] == 25.0 and r["duration"] == pytest.approx(0.4)
    assert (r["width"], r["height"], r["resolution"]) == (64, 48, 3072)
    assert r["aspect_ratio"] == pytest.approx(48 / 64)
    assert (r["codec"], r["pix_fmt"], r["sar"], r["rotation"]) == ("h264", "yuv420p", "1:1", 0)
    assert r["file_size"] == path.stat().st_size and r["bit_rate"] > 0
    assert (r["stream_index"], r["num_video_streams"], r["start_time"]) == (0, 1, 0.0)
    assert r["has_audio"] is False


def test_probe_detects_audio_stream(tmp_path: Path) -> None:
    assert probe(_write(tmp_path / "av.mp4", audio=True))["has_audio"] is True


def test_probe_exact_frames_counts_and_agrees_with_header(tmp_path: Path) -> None:
    r = probe(_write(tmp_path / "plain.mp4"), exact_frames=True)
    assert r["frames_exact"] is True
    assert r["num_frames"] == 10 and r["duration"] == pytest.approx(0.4)


def test_count_frames_demux_equals_decode(tmp_path: Path) -> None:
    path = _write(tmp_path / "bframes.mp4", frames=24)
    assert count_frames(path) == count_frames(path, method="decode") == (24, pytest.approx(24 / 25))


@pytest.mark.parametrize(("ccw", "clockwise"), [(90, 270), (-90, 90), (180, 180)])
def test_probe_reports_clockwise_rotation_and_swaps_display_size(tmp_path: Path, ccw: int, clockwise: int) -> None:
    r = probe(_write(tmp_path / "rot.mp4", rotation=ccw))
    assert r["rotation"] == clockwise
    swapped = clockwise in (90, 270)
    assert (r["width"], r["height"]) == ((48, 64) if swapped else (64, 48))
    assert r["aspect_ratio"] == pytest.approx(r["height"] / r["width"])


def test_probe_scales_width_by_sample_aspect_ratio_to_even(tmp_path: Path) -> None:
    r = probe(_write(tmp_path / "sar.mp4", sar=Fraction(4, 3)))
    assert r["sar"] == "4:3"
    assert (r["width"], r["height"]) == (86, 48)  # 64 * 4/3 = 85.3 -> nearest even


def test_probe_counts_when_header_has_no_frame_count(tmp_path: Path) -> None:
    r = probe(_write(tmp_path / "nocount.mkv"))
    assert r["frames_exact"] is True
    assert r["num_frames"] == 10 and r["duration"] == pytest.approx(0.4)


def test_probe_reports_delayed_start_and_video_span(tmp_path: Path) -> None:
    for name in ("late.mp4", "late.mkv"):
        r = probe(_write(tmp_path / name, first_pts=25))
        assert r["start_time"] == pytest.approx(1.0)
        assert r["duration"] == pytest.approx(0.4)


def test_best_video_stream_prefers_default_disposition_over_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "two.mp4", size=(32, 24), renditions=((64, 48),))
    with av.open(str(path)) as c:
        assert [bool(s.disposition & av.stream.Disposition.default) for s in c.streams.video] == [True, False]
        assert best_video_stream(c).index == 0


def test_best_video_stream_prefers_larger_rendition_among_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path / "two.mp4", size=(32, 24), renditions=((64, 48),), all_default=True)
    with av.open(str(path)) as c:
        assert best_video_stream(c).index == 1
    r = probe(path)
    assert (r["stream_index"], r["num_video_streams"], r["width"]) == (1, 2, 64)


def test_best_video_stream_skips_cover_art(tmp_path: Path) -> None:
    r = probe(_write(tmp_path / "cover.mp4", cover=True))
    assert (r["width"], r["height"], r["num_video_streams"], r["num_frames"]) == (64, 48, 1, 10)


def test_probe_rejects_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(ProbeError, match="empty"):
        probe(tmp_path / "empty.mp4")


def test_probe_rejects_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "text.mp4"
    path.write_text("not a video\n" * 50)
    with pytest.raises(ProbeError, match="not a readable media file") as info:
        probe(path)
    assert isinstance(info.value.__cause__, av.FFmpegError)


def test_probe_rejects_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ProbeError):
        probe(tmp_path / "absent.mp4")
    with pytest.raises(ProbeError, match="not a regular file"):
        probe(tmp_path)


def test_probe_rejects_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w") as out:
        s = out.add_stream("aac", rate=16000)
        for i in range(5):
            af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, i * 1024
            out.mux(s.encode(af))
        out.mux(s.encode(None))
    with pytest.raises(ProbeError, match="no video stream"):
        probe(path)


def test_probe_rejects_truncated_file_without_decodable_frame(tmp_path: Path) -> None:
    data = _write(tmp_path / "fast.mp4", options={"movflags": "+faststart"}).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.index(b"mdat") + 100])
    with pytest.raises(ProbeError, match="no decodable frame"):
        probe(cut)


def test_probe_rejects_truncated_file_without_index(tmp_path: Path) -> None:
    data = _write(tmp_path / "tail.mp4").read_bytes()  # moov atom at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProbeError):
        probe(cut)


def test_probe_counts_truncated_file_instead_of_trusting_header(tmp_path: Path) -> None:
    data = _write(tmp_path / "fast.mp4", options={"movflags": "+faststart"}).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:-50])  # last frame cut off
    r = probe(cut)
    assert r["frames_exact"] is True and r["num_frames"] == 9
    assert count_frames(cut, method="decode")[0] == 9


def test_count_frames_rejects_non_video_stream_index(tmp_path: Path) -> None:
    path = _write(tmp_path / "av.mp4", audio=True)
    with pytest.raises(ProbeError, match="not a video stream"):
        count_frames(path, stream_index=1)


# --- real footage (../shared/testdata/external) ---------------------------------------------------------


def _ext(name: str) -> Path:
    return EXTERNAL / name


@needs_external
@pytest.mark.parametrize("name", EXTERNAL_FILES)
def test_probe_external_file_gives_result_or_probe_error(name: str) -> None:
    try:
        r = probe(_ext(name))
    except ProbeError:
        return
    assert r["num_frames"] > 0 and r["duration"] > 0 and r["fps"] > 0
    assert r["width"] > 0 and r["height"] > 0
    assert r["aspect_ratio"] == pytest.approx(r["height"] / r["width"])
    assert r["rotation"] in (0, 90, 180, 270)


@needs_external
def test_external_rotate_file_is_portrait_after_rotation() -> None:
    r = probe(_ext("pyscenedetect_issue-134-rotate.mp4"))
    assert (r["rotation"], r["width"], r["height"]) == (90, 544, 1280)
    assert r["num_frames"] == 240 and r["fps"] == pytest.approx(24000 / 1001)


@needs_external
def test_external_phone_clip_is_upside_down() -> None:
    r = probe(_ext("moviepy_fire2.mp4"))
    assert (r["rotation"], r["width"], r["height"], r["num_frames"]) == (180, 1280, 720, 25)


@needs_external
def test_external_anamorphic_file_has_display_width_from_sar() -> None:
    r = probe(_ext("pyscenedetect_issue-195-aspect-ratio.mp4"))
    assert (r["sar"], r["width"], r["height"]) == ("16:11", 1024, 576)
    assert r["aspect_ratio"] == pytest.approx(576 / 1024)


@needs_external
def test_external_vfr_file_reports_average_rate() -> None:
    r = probe(_ext("pyscenedetect_goldeneye-vfr-drop3.mp4"))
    assert r["num_frames"] == 160
    assert r["fps"] == pytest.approx(3840000 / 239239)
    assert r["duration"] == pytest.approx(239239 / 24000)


@needs_external
def test_external_delayed_start_reports_start_and_span() -> None:
    r = probe(_ext("pyscenedetect_delayed_start.mp4"))
    assert r["start_time"] == pytest.approx(1.075)
    assert r["num_frames"] == 24 and r["duration"] == pytest.approx(0.96)


@needs_external
def test_external_webm_without_duration_is_counted() -> None:
    r = probe(_ext("moviepy_no_duration.webm"))
    assert r["frames_exact"] is True and r["num_frames"] == 74
    assert r["duration"] == pytest.approx(4.938, abs=1e-3)
    assert r["fps"] == pytest.approx(15000 / 1001)
    assert r["pix_fmt"] == "yuv420p"  # tagged alpha_mode=1 but no alpha data in its blocks


@needs_external
def test_external_vp9_with_alpha_reports_alpha_pixel_format() -> None:
    r = probe(_ext("moviepy_transparent.webm"))
    assert (r["codec"], r["pix_fmt"], r["num_frames"]) == ("vp9", "yuva420p", 150)


@needs_external
def test_external_mpeg_ps_is_counted_with_start_offset() -> None:
    r = probe(_ext("kivy_cityCC0.mpg"))
    assert (r["codec"], r["num_frames"], r["frames_exact"]) == ("mpeg2video", 190, True)
    assert r["start_time"] == pytest.approx(0.54) and r["duration"] == pytest.approx(7.6)


@needs_external
def test_external_avi_header_counting_dropped_slots_is_overruled() -> None:
    path = _ext("opencv_tree.avi")
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 444  # AVI header length, in 1/15 s slots
    r = probe(path)
    assert r["frames_exact"] is True and r["num_frames"] == 68
    assert r["duration"] == pytest.approx(29.6, abs=1e-3)
    assert r["fps"] == pytest.approx(68 / 29.6, rel=1e-3)
    assert count_frames(path, method="decode")[0] == 68


@needs_external
def test_external_nasa_picks_larger_rendition_and_matches_frame_tables() -> None:
    path = _ext("torchcodec_nasa_13013.mp4")
    r = probe(path)
    assert (r["stream_index"], r["num_video_streams"], r["width"], r["height"]) == (3, 2, 480, 270)
    assert r["num_frames"] == 390 and r["fps"] == pytest.approx(30000 / 1001)
    for index in (0, 3):
        table = json.loads(path.with_name(f"{path.name}.stream{index}.all_frames_info.json").read_text())
        end = max(float(f["pts_time"]) + float(f["duration_time"]) for f in table)
        start = min(float(f["pts_time"]) for f in table)
        for method in ("demux", "decode"):
            n, duration = count_frames(path, index, method=method)
            assert n == len(table)
            assert duration == pytest.approx(end - start, abs=1e-3)


@needs_external
@pytest.mark.parametrize(
    "name",
    [n for n in EXTERNAL_FILES if (EXTERNAL / n).stat().st_size < 1_000_000],
)
def test_external_demux_count_equals_decode_count(name: str) -> None:
    demux = count_frames(_ext(name))
    decode = count_frames(_ext(name), method="decode")
    assert demux[0] == decode[0]
    assert demux[1] == pytest.approx(decode[1], abs=1e-3)
