"""`cmotion`: camera-motion labels against the synthetic ground truth, per-scene labels, unknowns, errors, params."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media import decode
from vidcurate.media.synth import write_video
from vidcurate.ops.base import build
from vidcurate.ops.cmotion import Motion2D

CAMERA = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out"]


def _label(path: Path, **params: object) -> dict:
    out = apply(build("cmotion", dict(params)), [{"id": path.stem, "path": str(path)}])[0]
    assert not out.get("error"), out.get("error")
    return out


@pytest.mark.parametrize("kind", CAMERA)
def test_camera_moves_get_their_ground_truth_label(samples: tuple[Path, dict], kind: str) -> None:
    root, truth = samples
    out = _label(root / f"camera/{kind}.mp4")
    assert out["cmotion"] == truth["videos"][f"camera/{kind}.mp4"]["cmotion"] == kind


def test_numbers_follow_the_camera_convention(samples: tuple[Path, dict]) -> None:
    root, truth = samples
    gt = truth["videos"]
    pan = _label(root / "camera/pan_left.mp4")
    # content moves right at 3 px/frame -> the camera moves left by 3 * 24 / 320 frame widths per second
    assert pan["cmotion_dx"] == pytest.approx(-3 * gt["camera/pan_left.mp4"]["fps"] / 320, rel=0.03)
    assert _label(root / "camera/tilt_up.mp4")["cmotion_dy"] < 0
    zoom = _label(root / "camera/zoom_in.mp4")["cmotion_zoom"]
    assert zoom == pytest.approx(np.log(gt["camera/zoom_in.mp4"]["zoom_per_frame"]) * 24, rel=0.05)


@pytest.mark.parametrize("name", ["motion/static.mp4", "motion/fast.mp4", "odd/portrait.mp4", "odd/vfr.mp4"])
def test_static_camera_is_static_even_with_moving_objects(samples: tuple[Path, dict], name: str) -> None:
    root, truth = samples
    assert truth["videos"][name]["cmotion"] == "static"
    assert _label(root / name)["cmotion"] == "static"


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_each_scene_gets_its_own_label_from_one_decode(samples: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = samples
    parts = [_frames(root / f"camera/{k}.mp4") for k in ("pan_left", "tilt_up", "zoom_out")]
    path = tmp_path / "three_moves.mp4"
    write_video(path, [f for part in parts for f in part], fps=24)
    bounds = np.cumsum([0] + [len(p) for p in parts]).tolist()
    row = {"id": "m", "path": str(path), "scene_frames": [[a, b] for a, b in zip(bounds, bounds[1:])]}
    out = apply(build("cmotion"), [row])[0]
    assert decode.DECODES[str(path)] == 1
    assert [s["cmotion"] for s in out["scene_scores"]] == ["pan_left", "tilt_up", "zoom_out"]


def test_combinations_are_joined_in_fixed_order() -> None:
    op = build("cmotion")
    both = [Motion2D(dx=-0.1, dy=0.0, zoom=0.1, inliers=0.9)] * 3
    assert op.label(both)["cmotion"] == "pan_left+zoom_in"
    assert op.label([Motion2D(dx=0.2, dy=-0.1, zoom=-0.2, inliers=0.9)])["cmotion"] == "pan_right+tilt_up+zoom_out"


def test_unmeasurable_or_chaotic_motion_is_unknown() -> None:
    op = build("cmotion")
    assert op.label([])["cmotion"] == "unknown"
    assert op.label([Motion2D(None, None, None, 0.0)] * 3)["cmotion"] == "unknown"
    assert op.label([Motion2D(0.0, 0.0, 0.0, 0.2)] * 3)["cmotion"] == "unknown"
    shaky = [Motion2D(0.3, 0.0, 0.0, 0.9), Motion2D(-0.3, 0.0, 0.0, 0.9), Motion2D(0.0, 0.3, 0.0, 0.9)]
    assert op.label(shaky)["cmotion"] == "unknown"


def test_noise_video_is_unknown(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.mp4"
    write_video(path, (rng.integers(0, 256, (144, 256, 3), dtype=np.uint8) for _ in range(24)), fps=24)
    assert _label(path)["cmotion"] == "unknown"


def test_flat_picture_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "grey.mp4"
    write_video(path, (np.full((144, 256, 3), 128, np.uint8) for _ in range(24)), fps=24)
    out = _label(path)
    assert out["cmotion"] == "unknown" and out["cmotion_dx"] is None


@pytest.mark.parametrize("name", ["empty.mp4", "not_video.mp4"])
def test_unreadable_file_becomes_an_error_row(samples: tuple[Path, dict], name: str) -> None:
    root, _ = samples
    out = apply(build("cmotion"), [{"id": "b", "path": str(root / "broken" / name)}])[0]
    assert out["error"].startswith(("decode", "cmotion"))
    assert "cmotion" not in out


@pytest.mark.parametrize(
    ("params", "key"),
    [({"rate": 0}, "rate"), ({"short_side": 4000}, "short_side"), ({"min_pan": 0}, "min_pan"),
     ({"min_zoom": -1}, "min_zoom"), ({"min_inliers": 1.5}, "min_inliers"), ({"max_corners": 3}, "max_corners"),
     ({"rate": "fast"}, "rate")],
)
def test_bad_parameters_raise_config_error_naming_op_and_key(params: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=f"op 'cmotion': key '{key}'"):
        build("cmotion", params)


def test_real_footage_tripod_is_static_and_phone_pan_is_a_pan(external: Path) -> None:
    assert _label(external / "torchcodec_nasa_13013.mp4")["cmotion"] == "static"
    # stored upside down (rotation 180): in display orientation the content moves right, the camera left
    assert _label(external / "moviepy_fire2.mp4")["cmotion"] == "pan_left"


def test_default_frames_are_a_subset_of_motions_and_share_its_conversion(samples: tuple[Path, dict]) -> None:
    root, _ = samples
    specs = [build("motion").frame_spec(), build("cmotion").frame_spec()]
    seen: list[tuple[np.ndarray | None, np.ndarray | None]] = []
    decode.decode_pass(root / "odd/vfr.mp4", specs, lambda i, t, arrays: seen.append((arrays[0], arrays[1])))
    shared = [m for m, c in seen if c is not None]
    assert shared and all(m is not None for m in shared)
    assert all(m is c for m, c in seen if c is not None)
    assert len(shared) < len(seen)
