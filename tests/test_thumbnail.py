"""`thumbnail`: one small JPEG per span, from the shared decode pass."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.synth import write_video
from vidcurate.ops.base import build


@pytest.fixture(scope="module")
def two_colour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thumb") / "two.mp4"
    red = np.zeros((72, 128, 3), np.uint8)
    red[..., 0] = 220
    blue = np.zeros((72, 128, 3), np.uint8)
    blue[..., 2] = 220
    write_video(path, [red] * 24 + [blue] * 24, fps=24)
    return path


def _decode(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def test_each_scene_gets_the_thumbnail_of_its_own_middle(two_colour: Path) -> None:
    row = {"id": "x", "path": str(two_colour), "scene_frames": [[0, 24], [24, 48]]}
    out = apply(build("thumbnail", {"height": 32}), [row])[0]
    first, second = (_decode(s["thumb"]) for s in out["scene_scores"])
    assert first.shape[0] == 32 and first.shape[1] > 32
    assert first[..., 0].mean() > 150 > first[..., 2].mean()
    assert second[..., 2].mean() > 150 > second[..., 0].mean()


def test_clip_without_scenes_gets_one_thumbnail_column(two_colour: Path) -> None:
    out = apply(build("thumbnail"), [{"id": "x", "path": str(two_colour)}])[0]
    assert _decode(out["thumb"]).shape[0] == 72


def test_unreadable_file_becomes_an_error_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    out = apply(build("thumbnail"), [{"id": "b", "path": str(bad)}])[0]
    assert out["error"].startswith("decode:") and "thumb" not in out


def test_bad_parameters_name_op_and_key() -> None:
    with pytest.raises(ConfigError, match="op 'thumbnail': key 'height'"):
        build("thumbnail", {"height": 4})
