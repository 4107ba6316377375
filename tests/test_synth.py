"""The synthetic sample generator: files decode to what ground_truth.json declares, byte-reproducibly."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidcurate.media.synth import (
    CONVENTIONS,
    bulk_cuts,
    generate,
    generate_bulk,
    write_video,
)

STANDARD_KEYS = {
    "kind", "width", "height", "coded_width", "coded_height", "fps", "num_frames", "duration", "rotation",
    "sar", "vfr", "has_audio", "cuts", "transitions", "cmotion", "motion_px_per_frame", "text_boxes",
    "black_frames", "frozen_frames", "duplicate_of", "near_duplicate_of", "broken",
}  # fmt: skip


def _valid(truth: dict) -> dict[str, dict]:
    return {rel: t for rel, t in truth["videos"].items() if not t["broken"]}


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _digests(root: Path, names: list[str]) -> dict[str, str]:
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in names}


def test_ground_truth_lists_every_file_with_the_standard_keys(samples):
    root, truth = samples
    assert truth["version"] == 1
    assert all((root / rel).is_file() for rel in truth["videos"])
    for rel, t in _valid(truth).items():
        assert set(t) >= STANDARD_KEYS, rel
    kinds = {t["kind"] for t in truth["videos"].values()}
    assert {"cuts", "dissolve", "fade", "static", "slow", "fast", "pan_left", "pan_right", "tilt_up",
            "tilt_down", "zoom_in", "zoom_out", "text", "notext", "duplicate", "near_duplicate", "portrait",
            "landscape", "odd_size", "rotated", "sar", "vfr", "audio", "quality", "truncated", "empty",
            "not_video"} <= kinds  # fmt: skip
    assert truth["conventions"] == CONVENTIONS


def test_generated_videos_decode_to_declared_frame_count_sizes_and_duration(samples):
    root, truth = samples
    for rel, t in _valid(truth).items():
        with av.open(str(root / rel)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
            assert len(frames) == t["num_frames"], rel
            assert (frames[0].width, frames[0].height) == (t["coded_width"], t["coded_height"]), rel
            sar = stream.sample_aspect_ratio or Fraction(1)
            width, height = round(frames[0].width * sar), frames[0].height
            if frames[0].rotation % 180:
                width, height = height, width
            assert (width, height) == (t["width"], t["height"]), rel
            assert float(stream.duration * stream.time_base) == pytest.approx(t["duration"], abs=1e-3), rel
            assert bool(container.streams.audio) == t["has_audio"], rel


def test_cfr_videos_have_declared_rate_and_keyframe_interval(samples):
    root, truth = samples
    for rel, t in _valid(truth).items():
        if t["vfr"]:
            continue
        with av.open(str(root / rel)) as container:
            stream = container.streams.video[0]
            assert float(stream.average_rate) == pytest.approx(t["fps"]), rel
            packets = [p for p in container.demux(stream) if p.size]
            keys = [i for i, packet in enumerate(packets) if packet.is_keyframe]
        assert keys == list(range(0, t["num_frames"], t["keyframe_interval"])), rel


def test_rotation_reads_back_as_display_matrix_and_restores_upright_content(samples):
    root, truth = samples
    t = truth["videos"]["odd/rotated.mp4"]
    assert (t["coded_width"], t["coded_height"], t["rotation"]) == (320, 180, 90)
    with av.open(str(root / "odd/rotated.mp4")) as container:
        frame = next(container.decode(video=0))
    assert frame.rotation == t["display_matrix_rotation"] == -90
    upright = np.rot90(frame.to_ndarray(format="rgb24"), k=frame.rotation // 90)
    assert upright.shape[:2] == (t["height"], t["width"]) == (320, 180)
    x0, y0, x1, y1 = t["marker_box"]
    assert upright[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].min() > 230


def test_sample_aspect_ratio_reads_back(samples):
    root, truth = samples
    t = truth["videos"]["odd/sar.mp4"]
    with av.open(str(root / "odd/sar.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.sample_aspect_ratio == Fraction(4, 3)
        assert stream.display_aspect_ratio == Fraction(16, 9)
    assert (t["sar"], t["coded_width"], t["width"], t["height"]) == ("4:3", 240, 320, 180)


def test_vfr_timestamps_and_duration_read_back(samples):
    root, truth = samples
    t = truth["videos"]["odd/vfr.mp4"]
    with av.open(str(root / "odd/vfr.mp4")) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream)]
        duration = float(stream.duration * stream.time_base)
    assert t["vfr"] is True
    assert times == pytest.approx(t["timestamps"], abs=1e-6)
    assert len(set(np.round(np.diff(times), 6))) >= 3
    assert duration == pytest.approx(t["duration"], abs=1e-6)
    assert t["fps"] == pytest.approx(t["num_frames"] / t["duration"], rel=1e-5)


def test_audio_track_is_aac_and_spans_the_video(samples):
    root, truth = samples
    t = truth["videos"]["odd/audio.mp4"]
    with av.open(str(root / "odd/audio.mp4")) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples_decoded = sum(f.samples for f in container.decode(audio))
    assert samples_decoded / t["audio_sample_rate"] == pytest.approx(t["audio_seconds"], abs=0.05)


def test_duplicate_is_byte_identical_and_near_duplicate_is_not(samples):
    root, truth = samples
    videos = truth["videos"]
    copy = next(rel for rel, t in videos.items() if t["kind"] == "duplicate")
    near = next(rel for rel, t in videos.items() if t["kind"] == "near_duplicate")
    source = videos[copy]["duplicate_of"]
    assert (root / copy).read_bytes() == (root / source).read_bytes()
    assert videos[near]["near_duplicate_of"] == source
    assert (root / near).read_bytes() != (root / source).read_bytes()
    a, b = _frames(root / source), _frames(root / near)
    assert len(a) == len(b)
    small = cv2.resize(a[10], (b[10].shape[1], b[10].shape[0]), interpolation=cv2.INTER_AREA)
    assert _diff(small, b[10]) < 6


@pytest.mark.parametrize(
    "rel", ["broken/truncated.mp4", "broken/truncated_tail.mp4", "broken/empty.mp4", "broken/not_video.mp4"]
)
def test_broken_files_fail_to_decode(samples, rel):
    root, truth = samples
    assert truth["videos"][rel]["broken"] in rel
    with pytest.raises(av.FFmpegError), av.open(str(root / rel)) as container:
        list(container.decode(video=0))


def test_truncated_tail_opens_with_a_header_that_promises_more_frames_than_decode(samples):
    root, truth = samples
    t = truth["videos"]["broken/truncated_tail.mp4"]
    decoded = 0
    with av.open(str(root / "broken/truncated_tail.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.frames == t["header_num_frames"]
        assert float(stream.duration * stream.time_base) == pytest.approx(t["header_duration"])
        with pytest.raises(av.FFmpegError):
            for _ in container.decode(stream):
                decoded += 1
    assert 0 < decoded < t["header_num_frames"]


def test_hard_cuts_are_where_declared(samples):
    root, truth = samples
    for rel, t in _valid(truth).items():
        if t["kind"] != "cuts":
            continue
        frames = _frames(root / rel)
        diffs = [_diff(a, b) for a, b in zip(frames, frames[1:], strict=False)]
        at_cuts = [diffs[c - 1] for c in t["cuts"]]
        elsewhere = [d for i, d in enumerate(diffs) if i + 1 not in t["cuts"]]
        assert min(at_cuts) > 3 * max(elsewhere), rel


def test_luma_cut_keeps_the_luma_histogram_but_changes_colour(samples):
    root, truth = samples
    t = truth["videos"]["cuts/luma_cut.mp4"]
    (cut,) = t["cuts"]
    frames = _frames(root / "cuts/luma_cut.mp4")
    before, after = frames[cut - 1], frames[cut]
    hist = [cv2.calcHist([_gray(f)], [0], None, [64], [0, 256]) for f in (before, after)]
    assert cv2.compareHist(hist[0], hist[1], cv2.HISTCMP_CORREL) > 0.95
    assert abs(_gray(before).mean() - _gray(after).mean()) < 2
    assert np.abs(before.reshape(-1, 3).mean(0) - after.reshape(-1, 3).mean(0)).max() > 40


def test_transitions_blend_between_pure_frames(samples):
    root, truth = samples
    for rel in ("cuts/dissolve.mp4", "cuts/fade.mp4"):
        t = truth["videos"][rel]
        frames = _frames(root / rel)
        for first, last in t["transitions"]:
            steps = [_diff(frames[i], frames[i + 1]) for i in range(first - 1, last + 1)]
            assert max(steps) < 25, rel
            assert _diff(frames[first - 1], frames[last + 1]) > 25, rel


def test_black_and_frozen_ranges_hold(samples):
    root, truth = samples
    for rel, t in _valid(truth).items():
        if not (t["black_frames"] or t["frozen_frames"]):
            continue
        frames = _frames(root / rel)
        for a, b in t["black_frames"]:
            assert max(f.mean() for f in frames[a : b + 1]) < 1, rel
            assert frames[a - 1].mean() > 2 and frames[b + 1].mean() > 2, rel
        for a, b in t["frozen_frames"]:
            assert max(_diff(frames[i], frames[i + 1]) for i in range(a, b)) < 1, rel
            assert _diff(frames[a - 1], frames[a]) > 1 and _diff(frames[b], frames[b + 1]) > 1, rel


def test_text_boxes_cover_the_only_pixels_that_differ_from_the_textless_twin(samples):
    root, truth = samples
    t = truth["videos"]["text/text.mp4"]
    assert len(t["text_boxes"]) == len(t["text_lines"]) == 2
    with_text, without = _frames(root / "text/text.mp4")[5], _frames(root / "text/notext.mp4")[5]
    changed = np.abs(_gray(with_text) - _gray(without)) > 40
    inside = np.zeros_like(changed)
    for x0, y0, x1, y1 in t["text_boxes"]:
        inside[y0:y1, x0:x1] = True
        assert changed[y0:y1, x0:x1].mean() > 0.2
    assert not changed[~inside].any()


@pytest.mark.parametrize(
    ("kind", "shift"),
    [("pan_left", (3, 0)), ("pan_right", (-3, 0)), ("tilt_up", (0, 3)), ("tilt_down", (0, -3))],
)
def test_camera_pans_move_content_opposite_to_the_camera(samples, kind, shift):
    root, truth = samples
    t = truth["videos"][f"camera/{kind}.mp4"]
    assert t["cmotion"] == kind and t["motion_px_per_frame"] == 3
    frames = _frames(root / f"camera/{kind}.mp4")
    (dx, dy), _ = cv2.phaseCorrelate(_gray(frames[10]), _gray(frames[11]))
    assert (dx, dy) == pytest.approx(shift, abs=0.25)


def test_zoom_factor_maps_first_frame_onto_last(samples):
    root, truth = samples
    for kind in ("zoom_in", "zoom_out"):
        t = truth["videos"][f"camera/{kind}.mp4"]
        frames = [_gray(f) for f in _frames(root / f"camera/{kind}.mp4")]
        total = t["zoom_per_frame"] ** (len(frames) - 1)
        wide, close = (frames[0], frames[-1]) if total > 1 else (frames[-1], frames[0])
        height, width = wide.shape

        def magnified(scale: float, wide: np.ndarray = wide, width: int = width, height: int = height):
            matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), 0, scale)
            return cv2.warpAffine(wide, matrix, (width, height))

        scale = max(total, 1 / total)
        assert scale == pytest.approx(1.6, rel=1e-3), kind
        error = np.abs(magnified(scale) - close).mean()
        assert error < 0.5 * np.abs(magnified(scale * 0.9) - close).mean(), kind
        assert error < 0.5 * np.abs(magnified(scale * 1.1) - close).mean(), kind


def test_motion_energy_grows_with_declared_speed(samples):
    root, truth = samples
    energy = {}
    for kind in ("static", "slow", "fast"):
        frames = _frames(root / f"motion/{kind}.mp4")
        energy[kind] = np.mean([_diff(a, b) for a, b in zip(frames[:20], frames[1:21], strict=True)])
        assert truth["videos"][f"motion/{kind}.mp4"]["cmotion"] == "static"
    assert energy["static"] < 1.5 < energy["slow"] < energy["fast"]


@pytest.mark.parametrize("rel", ["motion/slow.mp4", "motion/fast.mp4", "camera/pan_left.mp4", "camera/tilt_down.mp4"])
def test_declared_speed_matches_measured_optical_flow(samples, rel):
    root, truth = samples
    frames = [_gray(f).astype(np.uint8) for f in _frames(root / rel)]
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    speeds = [
        np.percentile(np.linalg.norm(flow.calc(frames[i], frames[i + 1], None), axis=2), 90) for i in (10, 30, 50)
    ]
    assert float(np.median(speeds)) == pytest.approx(truth["videos"][rel]["motion_px_per_frame"], rel=0.15)


def test_same_seed_gives_identical_bytes_and_only_declared_files(samples, tmp_path):
    root, truth = samples
    again = generate(tmp_path, seed=0)
    names = sorted([*truth["videos"], "ground_truth.json"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == names
    assert json.loads(json.dumps(again)) == truth
    assert _digests(tmp_path, names) == _digests(root, names)


def test_generate_bulk_makes_n_distinct_decodable_files_with_cuts(tmp_path):
    paths = generate_bulk(tmp_path / "a", 40, seed=3)
    assert [p.name for p in paths] == sorted(p.name for p in paths) and len(paths) == 40
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in paths}) == 40
    frames = _frames(paths[7])
    assert len(frames) == 24
    diffs = [_diff(a, b) for a, b in zip(frames, frames[1:], strict=False)]
    cuts = sorted(np.argsort(diffs)[-2:] + 1)
    assert cuts == bulk_cuts(24) == [8, 16]


def test_generate_bulk_is_deterministic_per_seed(tmp_path):
    a = generate_bulk(tmp_path / "a", 3, seed=1, seconds=0.5)
    b = generate_bulk(tmp_path / "b", 3, seed=1, seconds=0.5)
    c = generate_bulk(tmp_path / "c", 3, seed=2, seconds=0.5)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert all(x.read_bytes() != z.read_bytes() for x, z in zip(a, c, strict=True))


def test_write_video_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "odd.mp4", [np.zeros((35, 64, 3), np.uint8)])
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "float.mp4", [np.zeros((36, 64, 3), np.float32)])
    with pytest.raises(ValueError, match="size changed"):
        write_video(tmp_path / "resized.mp4", [np.zeros((36, 64, 3), np.uint8), np.zeros((38, 64, 3), np.uint8)])
    assert not (tmp_path / "resized.mp4").exists()
    with pytest.raises(ValueError, match="increasing"):
        write_video(tmp_path / "vfr.mp4", [np.zeros((36, 64, 3), np.uint8)] * 2, pts_seconds=[0.1, 0.1])
