"""`motion`: flow ordering and speed on synthetic motion, per-scene scoring, Data-Juicer parity, errors, params."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media import decode
from vidcurate.ops.base import build
from vidcurate.ops.motion import FARNEBACK, REF_FPS, REF_SHORT_SIDE, PairTracker, dj_resized_size


def _flow(path: Path, **params: object) -> float:
    out = apply(build("motion", dict(params)), [{"id": path.stem, "path": str(path)}])[0]
    assert not out.get("error"), out.get("error")
    return out["flow"]


def _expected_flow(px_per_frame: float, fps: float, short_side: int) -> float:
    """Ground-truth px/frame at the source size and rate -> our unit (px/frame at 30 fps, 256 px short side)."""
    return px_per_frame * REF_SHORT_SIDE / short_side * fps / REF_FPS


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_flow_orders_static_below_slow_below_fast(samples: tuple[Path, dict], method: str) -> None:
    root, _ = samples
    static, slow = (_flow(root / f"motion/{k}.mp4", method=method) for k in ("static", "slow"))
    assert static < 0.05
    assert static < slow
    if method == "dis":
        assert slow < _flow(root / "motion/fast.mp4", method=method)


def test_pan_flow_equals_the_known_camera_speed(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    gt = truth["videos"]["camera/pan_left.mp4"]
    expected = _expected_flow(gt["motion_px_per_frame"], gt["fps"], gt["height"])
    assert _flow(root / "camera/pan_left.mp4") == pytest.approx(expected, rel=0.05)
    assert _flow(root / "camera/tilt_down.mp4") == pytest.approx(expected, rel=0.05)


def test_flow_does_not_depend_on_sampling_rate_or_analysis_size(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    base = _flow(root / "camera/pan_right.mp4")
    assert _flow(root / "camera/pan_right.mp4", rate=3.0) == pytest.approx(base, rel=0.05)
    assert _flow(root / "camera/pan_right.mp4", rate=24.0) == pytest.approx(base, rel=0.05)
    assert _flow(root / "camera/pan_right.mp4", short_side=256) == pytest.approx(base, rel=0.1)


def test_vfr_flow_uses_timestamps(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    gt = truth["videos"]["odd/vfr.mp4"]
    moving = _flow(root / "odd/vfr.mp4")
    assert moving > 0.05
    # objects move at a constant px/s, so sampling at two rates gives the same score despite irregular gaps
    assert _flow(root / "odd/vfr.mp4", rate=3.0) == pytest.approx(moving, rel=0.25)
    assert gt["vfr"]


def test_every_scene_is_scored_from_one_decode(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    path = root / "cuts/three_cuts.mp4"
    shots = truth["videos"]["cuts/three_cuts.mp4"]["shots"]
    row = {"id": "s", "path": str(path), "scene_frames": [[a, b + 1] for a, b in shots]}
    before = decode.DECODES[str(path)]
    out = apply(build("motion"), [row])[0]
    assert decode.DECODES[str(path)] == before + 1
    flows = [s["flow"] for s in out["scene_scores"]]
    assert len(flows) == len(shots) and all(0 < f < 2 for f in flows)


def test_span_shorter_than_a_sampling_period_gets_null_flow(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    row = {"id": "s", "path": str(root / "camera/pan_left.mp4"), "scene_frames": [[0, 2], [2, 72]]}
    scores = apply(build("motion"), [row])[0]["scene_scores"]
    assert scores[0]["flow"] is None
    assert scores[1]["flow"] > 1


def test_scene_row_is_scored_on_its_own_span(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    path = str(root / "camera/tilt_up.mp4")
    row = {"id": "s_1", "path": path, "source_path": path, "start_frame": 30, "end_frame": 60}
    assert apply(build("motion"), [row])[0]["flow"] == pytest.approx(_flow(Path(path)), rel=0.05)


def test_pairs_that_straddle_a_span_boundary_are_ignored() -> None:
    tracker = PairTracker()
    frame = np.zeros((4, 4), np.uint8)
    for i in range(0, 10, 2):
        tracker.add(i, i / 10, frame, lambda a, b: 1.0)
    assert [(p.i0, p.i1) for p in tracker.inside((0, 5))] == [(0, 2), (2, 4)]
    assert [(p.i0, p.i1) for p in tracker.inside((4, 10))] == [(4, 6), (6, 8)]


@pytest.mark.parametrize("name", ["empty.mp4", "not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(samples: tuple[Path, dict], name: str) -> None:
    root, _ = samples
    out = apply(build("motion"), [{"id": "b", "path": str(root / "broken" / name)}])[0]
    assert out["error"].startswith(("decode", "motion"))
    assert "flow" not in out


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"method": "raft"}, "method"),
        ({"rate": 0}, "rate"),
        ({"short_side": 8}, "short_side"),
        ({"size": 256}, "size"),
        ({"method": "datajuicer", "size": [1, 2, 3]}, "size"),
        ({"method": "datajuicer", "max_size": -1}, "max_size"),
        ({"method": "datajuicer", "divisible": 0}, "divisible"),
        ({"relative": "yes"}, "relative"),
    ],
)
def test_bad_parameters_raise_config_error_naming_op_and_key(params: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=f"op 'motion': key '{key}'"):
        build("motion", params)


def test_datajuicer_resize_tuple_follows_data_juicer() -> None:
    assert dj_resized_size(360, 640, None, None, 1) == (360, 640)
    assert dj_resized_size(360, 640, [256], None, 1) == (256, 455)
    assert dj_resized_size(640, 360, [256], None, 1) == (455, 256)
    assert dj_resized_size(360, 640, [256], 400, 1) == (225, 400)
    assert dj_resized_size(360, 640, [256], None, 8) == (256, 448)
    assert dj_resized_size(360, 640, [200, 300], None, 1) == (200, 300)


def _dj_reference(path: Path, start: int = 0, end: int | None = None) -> float:
    """Data-Juicer's procedure on frames [start, end) as a clip: frames 0, 1, every step-th; BGR->gray; Farneback."""
    sampling_fps = 2.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)][start:end]
    step = max(min(round(fps / min(sampling_fps, fps)), len(frames) - 1), 1)
    picks = [0, 1, *range(step, len(frames), step)]  # step 1 repeats frame 1, as Data-Juicer's seek does
    grays = [cv2.cvtColor(frames[i], cv2.COLOR_BGR2GRAY) for i in picks]
    scores = []
    for prev, cur in zip(grays, grays[1:]):
        flow = cv2.calcOpticalFlowFarneback(prev, cur, None, **FARNEBACK)
        scores.append(float(np.mean(cv2.cartToPolar(flow[..., 0], flow[..., 1])[0])))
    return float(np.mean(scores))


@pytest.mark.parametrize("probed", [True, False])
def test_datajuicer_method_reproduces_data_juicer_score(samples: tuple[Path, dict], probed: bool) -> None:
    root, truth = samples
    path = root / "motion/slow.mp4"
    row = {"id": "d", "path": str(path), **({"fps": truth["videos"]["motion/slow.mp4"]["fps"]} if probed else {})}
    out = apply(build("motion", {"method": "datajuicer"}), [row])[0]
    assert out["flow"] == pytest.approx(_dj_reference(path), rel=1e-6)


def test_real_footage_static_camera_is_low_and_hand_held_is_highest(external: Path) -> None:
    flows = {name: _flow(external / name) for name in
             ("moviepy_smpte-2997.mp4", "torchcodec_nasa_13013.mp4", "moviepy_fire2.mp4", "torchcodec_h265_video.mp4",
              "moviepy_transparent.webm", "torchcodec_av1_video.mkv")}
    assert flows["moviepy_smpte-2997.mp4"] < 0.1
    assert flows["torchcodec_nasa_13013.mp4"] < 0.5
    assert flows["moviepy_fire2.mp4"] == max(flows.values())


def test_datajuicer_method_scores_each_scene_as_data_juicer_scores_the_cut_clip(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    path = root / "camera/pan_right.mp4"
    row = {"id": "d", "path": str(path), "fps": 24.0, "scene_frames": [[0, 30], [30, 72]]}
    scores = apply(build("motion", {"method": "datajuicer"}), [row])[0]["scene_scores"]
    assert scores[0]["flow"] == pytest.approx(_dj_reference(path, 0, 30), rel=1e-6)
    assert scores[1]["flow"] == pytest.approx(_dj_reference(path, 30, 72), rel=1e-6)


def test_a_stale_scene_list_does_not_change_scores_when_scenes_are_found_in_the_same_pass(
    samples: tuple[Path, dict]
) -> None:
    from vidcurate.exec.plan import plan_specs, run_rows

    root, _ = samples
    path = str(root / "cuts/three_cuts.mp4")
    stages = plan_specs([("scenes", {}), ("motion", {"method": "datajuicer"})])
    fresh, stale = run_rows(stages, [{"id": "a", "path": path}, {"id": "b", "path": path,
                                                                  "scene_frames": [[0, 60], [60, 120]]}])
    assert stale["scene_frames"] == fresh["scene_frames"] == [[0, 30], [30, 54], [54, 90], [90, 120]]
    assert [s["flow"] for s in stale["scene_scores"]] == [s["flow"] for s in fresh["scene_scores"]]
