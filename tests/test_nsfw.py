"""Tests for the `nsfw` op: the detection -> score formula, NudeNet parity, spans, bad input, parameters.

No explicit imagery is used anywhere: the positive path is tested by feeding synthetic detections and
synthetic raw model outputs to the scoring functions, and the detector itself is checked end to end on
real footage with people, where it must find faces (weight 0) while the score stays 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.decode import DECODES
from vidcurate.ops.base import build
from vidcurate.ops.nsfw import (
    LABELS,
    MIN_CONFIDENCE,
    WEIGHTS,
    detection_score,
    letterbox,
    output_detections,
    output_score,
)


@pytest.fixture(scope="module")
def nsfw():
    op = build("nsfw", {})
    op.setup()
    return op


def _raw(*hits: tuple[str, float], anchors: int = 2100) -> np.ndarray:
    """A raw model output (1, 22, anchors) with one anchor per (class, confidence) and noise elsewhere."""
    out = np.zeros((1, 22, anchors), np.float32)
    out[0, 4:, :] = np.random.default_rng(0).uniform(0, 0.05, (18, anchors))
    for k, (name, conf) in enumerate(hits):
        out[0, 4 + LABELS.index(name), k] = conf
    return out


def test_explicit_classes_score_by_weight_times_confidence() -> None:
    assert detection_score([{"class": "FEMALE_GENITALIA_EXPOSED", "score": 0.9}]) == pytest.approx(0.9)
    assert detection_score([{"class": "FEMALE_BREAST_EXPOSED", "score": 0.9}]) == pytest.approx(0.72)
    assert detection_score([{"class": "BUTTOCKS_EXPOSED", "score": 0.7}]) == pytest.approx(0.42)
    assert detection_score([{"class": "MALE_GENITALIA_EXPOSED", "score": 0.55}]) == 0.0
    mixed = [{"class": "BUTTOCKS_EXPOSED", "score": 0.9}, {"class": "ANUS_EXPOSED", "score": 0.6}]
    assert detection_score(mixed) == pytest.approx(0.6)


@pytest.mark.parametrize("name", [n for n in LABELS if n not in WEIGHTS])
def test_covered_and_harmless_classes_score_zero(name: str) -> None:
    assert detection_score([{"class": name, "score": 0.99}]) == 0.0


def test_detections_below_min_confidence_are_ignored() -> None:
    dets = [{"class": "MALE_GENITALIA_EXPOSED", "score": 0.15}]
    assert detection_score(dets) == 0.0
    assert detection_score([{"class": "MALE_GENITALIA_EXPOSED", "score": 0.45}]) == 0.0
    assert detection_score(dets, min_confidence=0.1) == pytest.approx(0.15)
    assert detection_score([]) == 0.0


def test_raw_output_score_equals_score_of_its_detections() -> None:
    raw = _raw(("FACE_FEMALE", 0.95), ("FEMALE_BREAST_EXPOSED", 0.7), ("BUTTOCKS_EXPOSED", 0.9),
               ("FEMALE_BREAST_COVERED", 0.8))
    assert output_score(raw) == pytest.approx(detection_score(output_detections(raw)))
    assert output_score(raw) == pytest.approx(0.56)
    assert output_score(_raw(("FACE_MALE", 0.9))) == 0.0


def test_anchor_counts_only_as_its_best_class() -> None:
    raw = _raw(("FEMALE_GENITALIA_EXPOSED", 0.4))
    raw[0, 4 + LABELS.index("FEMALE_GENITALIA_COVERED"), 0] = 0.6
    assert output_score(raw) == 0.0


def test_letterbox_reproduces_nudenet_input() -> None:
    from nudenet import nudenet as reference

    frame = np.random.default_rng(1).integers(0, 256, (180, 320, 3), dtype=np.uint8)
    expected = reference._read_image(frame, 320)[0]
    assert np.abs(letterbox(frame) - expected).max() < 1e-6


def test_synthetic_content_scores_zero(nsfw, samples) -> None:
    root, truth = samples
    for rel in ["text/text.mp4", "motion/fast.mp4", "cuts/three_cuts.mp4", "odd/rotated.mp4"]:
        out = apply(nsfw, [{"id": rel, "path": str(root / rel), **{k: truth["videos"][rel][k] for k in ("fps",)}}])[0]
        assert not out.get("error"), out.get("error")
        assert out["nsfw"] < 0.05
        assert out["nsfw_frames"] >= 1


def test_scenes_are_scored_from_one_decode(nsfw, samples) -> None:
    root, truth = samples
    path = root / "cuts/three_cuts.mp4"
    gt = truth["videos"]["cuts/three_cuts.mp4"]
    bounds = [0, *gt["cuts"], gt["num_frames"]]
    scenes = [[a, b] for a, b in zip(bounds, bounds[1:])]
    before = DECODES[str(path)]
    out = apply(nsfw, [{"id": "c", "path": str(path), "fps": gt["fps"], "scene_frames": scenes}])[0]
    assert DECODES[str(path)] == before + 1
    assert len(out["scene_scores"]) == len(scenes)
    assert all(s["nsfw"] < 0.05 and 1 <= s["nsfw_frames"] <= 4 for s in out["scene_scores"])


@pytest.mark.parametrize("rel", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_bad_file_becomes_an_error_row(nsfw, samples, rel: str) -> None:
    root, _ = samples
    out = apply(nsfw, [{"id": rel, "path": str(root / rel)}])[0]
    assert out["error"].startswith(("decode", "nsfw"))
    assert "nsfw" not in out


@pytest.mark.parametrize(
    ("key", "value"),
    [("rate", 0), ("max_frames", 0), ("min_confidence", 1.0), ("threads", 0), ("model_path", "/no/such.onnx"),
     ("rate", "often")],
)
def test_bad_parameter_names_op_and_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"'nsfw'.*'{key}'"):
        build("nsfw", {key: value})


def test_missing_weights_fail_with_a_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import nudenet

    from vidcurate.ops.nsfw import default_model

    monkeypatch.setattr(nudenet, "__file__", str(tmp_path / "nudenet" / "__init__.py"))
    with pytest.raises(FileNotFoundError, match="NudeNet weights.*model_path"):
        default_model()


PEOPLE = ["datajuicer_video4.mp4", "datajuicer_video5.mp4"]
OTHER = ["datajuicer_video3.mp4", "videohash_rocket.mkv", "moviepy_big_buck_bunny_0_30.webm"]
"""Safe files where NudeNet's explicit classes reach 0.25-0.51 confidence (a rocket plume, clothed people)."""


@pytest.mark.parametrize("name", PEOPLE + OTHER)
def test_real_footage_scores_near_zero(nsfw, external: Path, name: str) -> None:
    out = apply(nsfw, [{"id": name, "path": str(external / name)}])[0]
    assert not out.get("error")
    assert out["nsfw"] < 0.1


def test_a_safe_frame_just_over_half_confidence_scores_zero(nsfw, external: Path) -> None:
    from vidcurate.media.decode import decode_pass
    from vidcurate.ops.base import FrameSpec

    frames: list[np.ndarray] = []
    decode_pass(external / "pyscenedetect_issue-195-aspect-ratio.mp4", [FrameSpec(fmt="bgr24", short_side=256)],
                lambda i, t, arrays: frames.append(arrays[0]) if i == 444 else None, end_frame=445)
    output = nsfw.infer(frames[0])
    fingers = [d["score"] for d in output_detections(output, 0.3) if d["class"] == "MALE_GENITALIA_EXPOSED"]
    assert 0.5 < max(fingers) < MIN_CONFIDENCE
    assert output_score(output) == 0.0


@pytest.mark.parametrize("name", PEOPLE)
def test_detector_finds_faces_in_real_footage_of_people(nsfw, external: Path, name: str) -> None:
    import av

    with av.open(str(external / name)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    found = {d["class"] for d in output_detections(nsfw.infer(frame), 0.3)}
    assert found & {"FACE_FEMALE", "FACE_MALE"}
    assert output_score(nsfw.infer(frame)) == 0.0


def test_scenes_found_in_the_same_pass_get_at_most_max_frames_model_calls_each(samples, count_calls) -> None:
    from vidcurate.exec.plan import plan_specs, run_rows

    root, truth = samples
    path = str(root / "cuts/three_cuts.mp4")
    stages = plan_specs([("scenes", {}), ("nsfw", {"max_frames": 2})])
    nsfw = stages[0].ops[1]
    nsfw.setup()
    calls = count_calls(nsfw, "infer")
    before = DECODES[path]
    [row] = run_rows(stages, [{"id": "c", "path": path}])
    assert DECODES[path] == before + 1
    cuts = truth["videos"]["cuts/three_cuts.mp4"]["cuts"]
    assert len(row["scene_scores"]) == len(row["scene_frames"]) == len(cuts) + 1
    assert all(s["nsfw"] < 0.05 and 1 <= s["nsfw_frames"] <= 2 for s in row["scene_scores"])
    assert len(calls) <= 2 * len(row["scene_frames"])
