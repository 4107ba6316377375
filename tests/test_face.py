"""`face`: Haar-cascade face prominence; face-free video scores 0, real faces are found, spans aggregate."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.decode import DECODES
from vidcurate.ops.base import build
from vidcurate.rows import known_spans
from vidcurate.sampling import Sample, SpanSampler


def _face(path: Path, **params: object) -> dict:
    [row] = apply(build("face", dict(params)), [{"id": "x", "path": str(path)}])
    assert not row.get("error"), row.get("error")
    return row


@pytest.mark.parametrize("rel", ["motion/fast.mp4", "text/text.mp4", "cuts/three_cuts.mp4", "odd/portrait.mp4"])
def test_face_free_synthetic_video_scores_zero(samples, rel: str) -> None:
    root, _ = samples
    row = _face(root / rel, rate=4.0)
    assert row["face_ratio"] == 0 and row["num_faces"] == 0


def test_spans_take_the_largest_face_of_their_samples_or_the_nearest_sample() -> None:
    op = build("face")
    state = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 24.0, "num_frames": 96}, known_spans(row), 4, None)
    state.samples.extend(Sample(i, i / 24, v) for i, v in [(0, (0.0, 0)), (24, (0.05, 1)), (48, (0.2, 2)),
                                                           (72, (0.0, 0))])
    times = [i / 24 for i in range(96)]
    cols = op.finish(state, {}, [(0, 50), (66, 67), (50, 96), (30, 31)], times)
    assert cols[0] == {"face_ratio": 0.2, "num_faces": 2, "face_frames": 3}
    assert cols[1] == {"face_ratio": 0.0, "num_faces": 0, "face_frames": 1}
    assert cols[2] == {"face_ratio": 0.0, "num_faces": 0, "face_frames": 1}
    assert cols[3] == {"face_ratio": 0.05, "num_faces": 1, "face_frames": 1}


def test_face_and_quality_share_one_decode(samples) -> None:
    from vidcurate.exec.plan import plan_specs, run_rows

    root, _ = samples
    path = str(root / "motion/slow.mp4")
    stages = plan_specs([("quality", {}), ("face", {})])
    before = DECODES[path]
    [row] = run_rows(stages, [{"id": "s", "path": path}])
    assert DECODES[path] - before == 1
    assert row["face_ratio"] == 0 and "sharpness" in row


def test_real_faces_are_found_and_a_traffic_camera_has_none(external: Path) -> None:
    megamind = _face(external / "opencv_Megamind.avi")
    assert megamind["face_ratio"] > 0.1 and megamind["num_faces"] >= 1
    assert _face(external / "pyscenedetect_goldeneye-vfr-drop3.mp4")["face_ratio"] > 0.02
    assert _face(external / "dvrscan_traffic_camera.mp4", rate=0.5)["face_ratio"] == 0


@pytest.mark.parametrize("name", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(samples, name: str) -> None:
    root, _ = samples
    [row] = apply(build("face"), [{"id": "b", "path": str(root / name)}])
    assert row["error"].startswith(("decode", "face"))
    assert "face_ratio" not in row


def test_missing_cascade_fails_with_how_to_provide_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))
    with pytest.raises(RuntimeError, match="haarcascade_frontalface_default.xml.*opencv-python-headless"):
        build("face").setup()


def test_op_pickles_after_setup_for_worker_processes() -> None:
    op = build("face")
    op.setup()
    copy = pickle.loads(pickle.dumps(op))
    assert copy.params() == op.params()
    copy.setup()


@pytest.mark.parametrize(
    ("key", "value"),
    [("rate", -1), ("size", 32), ("min_face", 1.5), ("scale_factor", 1.0), ("min_neighbors", -2), ("size", 1.5)],
)
def test_bad_parameters_raise_config_error_naming_op_and_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"op 'face': key '{key}'"):
        build("face", {key: value})


def test_cascades_run_on_at_most_max_frames_per_span(samples, count_calls) -> None:
    root, _ = samples
    op = build("face", {"rate": 8.0, "max_frames": 2})
    op.setup()
    calls = count_calls(op, "detect")
    [row] = apply(op, [{"id": "x", "path": str(root / "motion/fast.mp4")}])
    assert row["face_frames"] == 2 and len(calls) == 2


@pytest.mark.parametrize("name", ["datajuicer_video3.mp4", "datajuicer_video4.mp4", "datajuicer_video5.mp4"])
def test_faces_of_people_footage_are_found_with_default_sampling(external: Path, name: str) -> None:
    row = _face(external / name)
    assert row["face_ratio"] > 0.01 and row["num_faces"] >= 1
