"""`quality`: black and frozen ranges of the synthetic ground truth, sharpness, brightness, contrast, colour."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.synth import PALETTE, texture, write_video
from vidcurate.ops.base import build

QUALITY = "quality/black_frozen.mp4"


def _range_len(ranges: list[list[int]]) -> int:
    return sum(b - a + 1 for a, b in ranges)


def _score(path: Path, **params: object) -> dict:
    [row] = apply(build("quality", dict(params)), [{"id": "x", "path": str(path)}])
    assert not row.get("error"), row.get("error")
    return row


def _still(path: Path, frame: np.ndarray, n: int = 12) -> Path:
    write_video(path, [frame] * n, fps=12)
    return path


def test_every_frame_sampling_finds_exactly_the_ground_truth_black_and_frozen_frames(samples) -> None:
    root, truth = samples
    video = truth["videos"][QUALITY]
    n = video["num_frames"]
    frozen_pairs = sum(b - a for a, b in video["frozen_frames"])
    row = _score(root / QUALITY, rate=None)
    assert row["black_ratio"] == round(_range_len(video["black_frames"]) / n, 4)
    assert row["frozen_ratio"] == round(frozen_pairs / (n - 1), 4)


def test_default_rate_puts_black_and_frozen_in_their_scenes_only(samples) -> None:
    root, truth = samples
    video = truth["videos"][QUALITY]
    (b0, b1), (f0, f1) = video["black_frames"][0], video["frozen_frames"][0]
    n = video["num_frames"]
    scenes = [[0, b0], [b0, b1 + 1], [b1 + 1, f0], [f0, f1 + 1], [f1 + 1, n]]
    op = build("quality")
    [row] = apply(op, [{"id": "q", "path": str(root / QUALITY), "scene_frames": scenes}])
    scores = row["scene_scores"]
    assert [s["black_ratio"] for s in scores] == [0, 1, 0, 0, 0]
    assert [s["frozen_ratio"] for s in scores] == [0, 0, 0, 1, 0]
    assert scores[1]["brightness"] < 1 and scores[1]["contrast"] < 1
    assert all(s["brightness"] > 80 and s["sharpness"] > 50 for i, s in enumerate(scores) if i != 1)


def test_moving_content_is_neither_black_nor_frozen(samples) -> None:
    root, _ = samples
    for rel in ("motion/slow.mp4", "camera/zoom_in.mp4", "cuts/three_cuts.mp4"):
        row = _score(root / rel)
        assert row["black_ratio"] == 0 and row["frozen_ratio"] == 0, rel


def test_sharpness_is_higher_on_texture_than_on_its_blurred_copy(tmp_path: Path) -> None:
    sharp = texture(np.random.default_rng(3), 180, 320, PALETTE["sand"])
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    s = _score(_still(tmp_path / "sharp.mp4", sharp))["sharpness"]
    b = _score(_still(tmp_path / "blur.mp4", blurred))["sharpness"]
    assert s > 10 * b > 0


def test_brightness_contrast_and_colorfulness_of_known_frames(tmp_path: Path) -> None:
    grey = _score(_still(tmp_path / "grey.mp4", np.full((180, 320, 3), 128, np.uint8)))
    assert abs(grey["brightness"] - 128) < 3 and grey["contrast"] < 2 and grey["colorfulness"] < 3
    halves = np.zeros((180, 320, 3), np.uint8)
    halves[:, 160:] = 255
    split = _score(_still(tmp_path / "halves.mp4", halves))
    assert abs(split["brightness"] - 127.5) < 4 and split["contrast"] > 120
    red = _score(_still(tmp_path / "red.mp4", np.tile(np.uint8([230, 20, 20]), (180, 320, 1))))
    assert red["colorfulness"] > 60 > grey["colorfulness"] + 50
    assert grey["black_ratio"] == 0 and grey["frozen_ratio"] == 1


def test_a_span_without_a_sample_takes_the_nearest_sample(samples) -> None:
    root, truth = samples
    video = truth["videos"][QUALITY]
    b0, b1 = video["black_frames"][0]
    op = build("quality", {"rate": 1.0})
    row = {"id": "q", "path": str(root / QUALITY), "scene_frames": [[0, b0 + 2], [b0 + 2, b0 + 3], [b0 + 3, 96]]}
    [out] = apply(op, [row])
    tiny = out["scene_scores"][1]
    assert tiny["black_ratio"] == 1 and tiny["brightness"] < 1


@pytest.mark.parametrize("name", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(samples, name: str) -> None:
    root, _ = samples
    [row] = apply(build("quality"), [{"id": "b", "path": str(root / name)}])
    assert row["error"].startswith(("decode", "quality"))
    assert "sharpness" not in row


@pytest.mark.parametrize(
    ("key", "value"),
    [("rate", 0), ("size", 8), ("black_level", 300), ("black_std", -1), ("frozen_diff", 0), ("rate", "fast")],
)
def test_bad_parameters_raise_config_error_naming_op_and_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"op 'quality': key '{key}'"):
        build("quality", {key: value})


def test_real_footage_scores_are_sane(external: Path) -> None:
    row = _score(external / "opencv_tree.avi")
    assert row["black_ratio"] == 0 and row["frozen_ratio"] == 0
    assert 20 < row["brightness"] < 235 and row["contrast"] > 10 and row["sharpness"] > 0


def test_scene_row_not_yet_cut_is_scored_on_its_own_span(samples) -> None:
    root, truth = samples
    f0, f1 = truth["videos"][QUALITY]["frozen_frames"][0]
    path = str(root / QUALITY)
    row = {"id": "q_3", "path": path, "source_path": path, "start_frame": f0, "end_frame": f1 + 1}
    [out] = apply(build("quality"), [row])
    assert out["frozen_ratio"] == 1 and out["black_ratio"] == 0
