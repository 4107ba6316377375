"""The shared decode pass: display orientation, per-frame times, sampling, shared conversions, limits."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from vidcurate.media import decode
from vidcurate.media.decode import decode_pass
from vidcurate.media.synth import write_video
from vidcurate.ops.base import FrameSpec


def collect(path: Path, specs: list[FrameSpec], **kwargs: int) -> tuple[decode.DecodeResult, list[tuple]]:
    got: list[tuple] = []
    info = decode_pass(path, specs, lambda i, t, arrays: got.append((i, t, arrays)), **kwargs)
    return info, got


def test_rotated_sample_comes_out_upright_with_the_marker_top_left(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    gt = truth["videos"]["odd/rotated.mp4"]
    info, got = collect(root / "odd/rotated.mp4", [FrameSpec(fmt="gray")])
    assert (info.width, info.height) == (gt["width"], gt["height"]) == (180, 320)
    frame = got[0][2][0]
    assert frame.shape == (320, 180)
    x0, y0, x1, y1 = gt["marker_box"]
    assert frame[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].mean() > 240
    assert frame[-22:-2, -22:-2].mean() < 240


def test_sar_sample_is_delivered_at_display_size(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    info, got = collect(root / "odd/sar.mp4", [FrameSpec(fmt="rgb24")])
    assert (info.width, info.height) == (320, 180)
    assert got[0][2][0].shape == (180, 320, 3)


def test_vfr_sample_gives_each_frame_its_own_timestamp(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    gt = truth["videos"]["odd/vfr.mp4"]
    info, got = collect(root / "odd/vfr.mp4", [FrameSpec(width=32, height=18)])
    assert info.num_frames == gt["num_frames"]
    assert np.allclose(info.times, gt["timestamps"], atol=1e-3)
    assert np.allclose([t for _, t, _ in got], gt["timestamps"], atol=1e-3)


def test_rate_sampling_picks_frames_by_time_and_other_specs_still_get_every_frame(
    samples: tuple[Path, dict],
) -> None:
    root, _ = samples
    info, got = collect(root / "motion/slow.mp4", [FrameSpec(rate=6.0, short_side=36), FrameSpec(short_side=36)])
    sampled = [i for i, _, arrays in got if arrays[0] is not None]
    assert sampled == list(range(0, info.num_frames, 4))
    assert [i for i, _, arrays in got if arrays[1] is not None] == list(range(info.num_frames))


def test_rate_sampling_alone_converts_only_the_due_frames(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    info, got = collect(root / "motion/slow.mp4", [FrameSpec(rate=2.0)])
    assert [i for i, _, _ in got] == list(range(0, info.num_frames, 12))


def test_specs_with_the_same_size_and_format_share_one_conversion(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    specs = [FrameSpec(fmt="bgr24", short_side=90), FrameSpec(fmt="bgr24", width=160, height=90),
             FrameSpec(fmt="rgb24", short_side=90)]
    _, got = collect(root / "motion/slow.mp4", specs)
    a, b, c = got[0][2]
    assert a is b and a.shape == (90, 160, 3)
    assert c is not a and np.abs(c.astype(int) - a[..., ::-1]).mean() < 2


def test_start_and_end_frame_limit_the_frames_handed_out(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    info, got = collect(root / "cuts/three_cuts.mp4", [FrameSpec(short_side=36)], start_frame=30, end_frame=54)
    assert [i for i, _, _ in got] == list(range(30, 54))
    assert got[0][1] == pytest.approx(30 / 24, abs=1e-3)
    assert info.num_frames == 54


def test_every_pass_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "tiny.mp4"
    write_video(path, [np.full((16, 16, 3), 100, np.uint8)] * 3, fps=10)
    before = decode.DECODES[str(path)]
    collect(path, [FrameSpec()])
    assert decode.DECODES[str(path)] == before + 1


def test_delayed_start_times_are_relative_to_the_first_frame(external: Path) -> None:
    info, _ = collect(external / "pyscenedetect_delayed_start.mp4", [FrameSpec(width=32, height=18)])
    assert info.times[0] == 0.0
    assert np.allclose(np.diff(info.times), 1 / 25, atol=1e-3)


def _decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "vidcurate-decode"]


def test_stopping_early_or_failing_consumer_leaves_no_decoder_thread(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    path = root / "cuts/three_cuts.mp4"
    info, got = collect(path, [FrameSpec(fmt="gray")], end_frame=5)
    assert info.num_frames == 5 and [g[0] for g in got] == [0, 1, 2, 3, 4]

    def boom(index: int, t: float, arrays: list) -> None:
        raise RuntimeError("consumer failed")

    with pytest.raises(RuntimeError, match="consumer failed"):
        decode_pass(path, [FrameSpec(fmt="gray")], boom)
    assert not _decoder_threads()


def test_decoder_error_in_the_background_thread_reaches_the_caller(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    with av.open(str(root / "broken/truncated_tail.mp4")) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"  # reports the cut-off packet (frame threading hides it)
        frames = decode._frames_ahead(container, stream)
        count = 0
        with pytest.raises(av.InvalidDataError):
            for _ in frames:
                count += 1
    assert count > 0
    assert not _decoder_threads()


@pytest.mark.parametrize("layout", ["yuv420p", "yuvj420p", "yuvj422p", "yuv444p"])
def test_rgb_scaled_in_the_source_layout_keeps_colours_and_range(layout: str) -> None:
    rgb = np.zeros((64, 96, 3), np.uint8)
    rgb[..., 0], rgb[..., 1] = 200, 60
    rgb[:32, :, 2], rgb[32:, :, 2] = 30, 220
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=layout)
    [got] = decode._convert(frame, [FrameSpec(fmt="rgb24", width=48, height=32)], [True],
                            decode.DecodeResult(width=96, height=64), {})
    direct = frame.reformat(width=48, height=32, format="rgb24").to_ndarray()
    flat = np.r_[0:14, 18:32]  # rows away from the colour edge, where chroma subsampling may differ
    assert np.abs(got[flat].astype(int) - direct[flat]).max() <= 3
    assert np.abs(got[flat].astype(int) - rgb[::2, ::2][flat]).max() <= 4


def _panning_video(path: Path, codec: str = "libx264", bframes: int = 3, n: int = 72) -> Path:
    canvas = np.random.default_rng(7).integers(0, 255, (96, 160 + 2 * n, 3), np.uint8)
    write_video(path, (np.ascontiguousarray(canvas[:, 2 * i : 2 * i + 160]) for i in range(n)), fps=24,
                codec=codec, bframes=bframes)
    return path


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_unsampled_non_reference_frames_are_skipped_and_sampled_frames_stay_identical(
    tmp_path: Path, codec: str
) -> None:
    path = _panning_video(tmp_path / "b.mp4", codec)
    specs = [FrameSpec(fmt="gray", short_side=48, rate=4.0), FrameSpec(fmt="rgb24", rate=1.0),
             FrameSpec(fmt="gray", rate=3.0)]
    full, every = collect(path, specs, skip_unsampled=False)
    fast, sampled = collect(path, specs)
    assert full.skipped == 0 and fast.skipped > 10
    assert fast.num_frames == full.num_frames == 72 and fast.times == full.times
    assert [(i, t) for i, t, _ in sampled] == [(i, t) for i, t, _ in every]
    for (_, _, a), (_, _, b) in zip(sampled, every):
        assert all((x is None and y is None) or np.array_equal(x, y) for x, y in zip(a, b))


def test_a_spec_that_wants_every_frame_gets_every_frame_decoded(tmp_path: Path) -> None:
    path = _panning_video(tmp_path / "b.mp4")
    info, got = collect(path, [FrameSpec(fmt="gray", rate=2.0), FrameSpec(fmt="gray", short_side=48)])
    assert info.skipped == 0 and [i for i, _, _ in got] == list(range(72))


def test_codecs_without_exact_non_reference_dropping_decode_every_frame(tmp_path: Path) -> None:
    path = _panning_video(tmp_path / "b.avi", codec="mpeg4")
    info, got = collect(path, [FrameSpec(fmt="gray", rate=2.0)])
    assert info.skipped == 0 and info.num_frames == 72 and len(got) == 6
