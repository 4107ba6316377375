"""Tests for the `ocr` op: text area and boxes from PP-OCR detection, per span, from the shared decode pass."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media.decode import DECODES
from vidcurate.media.synth import texture, write_video
from vidcurate.ops.base import build
from vidcurate.ops.ocr import text_area
from vidcurate.rows import known_spans
from vidcurate.sampling import MAX_PENDING, MODEL_NICENESS, SpanSampler, centred


def iou(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


@pytest.fixture(scope="module")
def ocr():
    op = build("ocr", {})
    op.setup()
    return op


def _row(path: Path, truth: dict | None = None, **extra: object) -> dict:
    row = {"id": path.stem, "path": str(path)}
    if truth:
        row.update(width=truth["width"], height=truth["height"], fps=truth["fps"], num_frames=truth["num_frames"])
    row.update(extra)
    return row


def _text_frame(width: int, height: int, seed: int, lines: list[tuple[str, int, int]], scale: float) -> tuple:
    """A subdued texture with white lines of text; returns the frame and tight truth boxes."""
    rng = np.random.default_rng(seed)
    frame = cv2.addWeighted(texture(rng, height, width, (95, 105, 120)), 0.5, np.full((height, width, 3), 90, np.uint8),
                            0.5, 0)
    boxes = []
    for text, x, y in lines:
        mask = np.zeros((height, width), np.uint8)
        thick = max(1, round(2.5 * scale))
        cv2.putText(mask, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
        cv2.putText(frame, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
        ys, xs = np.nonzero(mask)
        boxes.append([int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
    return frame, boxes


@pytest.fixture(scope="module")
def half_text(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[int]]]:
    """640x360, 24 fps, 96 frames: no text in frames 0-47, a caption line in frames 48-95."""
    plain, _ = _text_frame(640, 360, 1, [], 1.0)
    captioned, boxes = _text_frame(640, 360, 1, [("Breaking news tonight", 60, 300)], 1.6)
    path = tmp_path_factory.mktemp("ocr") / "half_text.mp4"
    write_video(path, [plain] * 48 + [captioned] * 48, fps=24)
    return path, boxes


def test_text_video_scores_text_with_boxes_on_the_truth(ocr, samples) -> None:
    root, truth = samples
    gt = truth["videos"]["text/text.mp4"]
    out = apply(ocr, [_row(root / "text/text.mp4", gt)])[0]
    assert not out.get("error")
    assert out["ocr"] > 0.5 * gt["text_area_ratio"]
    assert out["ocr_frames"] >= 1
    for box in gt["text_boxes"]:
        assert max(iou(box, found) for found in out["ocr_boxes"]) > 0.5


def test_textless_twin_scores_zero(ocr, samples) -> None:
    root, truth = samples
    out = apply(ocr, [_row(root / "text/notext.mp4", truth["videos"]["text/notext.mp4"])])[0]
    assert out["ocr"] < 0.005
    assert out["ocr_boxes"] == []


@pytest.mark.parametrize("rel", ["motion/static.mp4", "camera/pan_left.mp4", "quality/black_frozen.mp4"])
def test_synthetic_textless_content_scores_near_zero(ocr, samples, rel: str) -> None:
    root, truth = samples
    out = apply(ocr, [_row(root / rel, truth["videos"][rel])])[0]
    assert out["ocr"] < 0.02


def test_scenes_are_scored_separately_from_one_decode(ocr, half_text) -> None:
    path, boxes = half_text
    row = _row(path, width=640, height=360, fps=24.0, num_frames=96, scene_frames=[[0, 48], [48, 96]])
    before = DECODES[str(path)]
    out = apply(ocr, [row])[0]
    assert DECODES[str(path)] == before + 1
    first, second = out["scene_scores"]
    assert first["ocr"] < 0.005 and first["ocr_boxes"] == []
    assert second["ocr"] > 0.02
    assert max(iou(boxes[0], found) for found in second["ocr_boxes"]) > 0.5


def test_boxes_are_in_display_pixels_when_analysis_is_smaller(half_text) -> None:
    path, boxes = half_text
    small = build("ocr", {"short_side": 270})
    out = apply(small, [_row(path, width=640, height=360, fps=24.0, num_frames=96)])[0]
    assert max(iou(boxes[0], found) for found in out["ocr_boxes"]) > 0.5
    assert all(0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 360 for x0, y0, x1, y1 in out["ocr_boxes"])


def test_scene_row_is_scored_on_its_own_span(ocr, half_text) -> None:
    path, boxes = half_text
    rows = [_row(path, width=640, height=360, fps=24.0, num_frames=48, start_frame=s, end_frame=e,
                 source_path=str(path)) for s, e in [(0, 48), (48, 96)]]
    first, second = apply(ocr, rows)
    assert first["ocr"] < 0.005
    assert max(iou(boxes[0], found) for found in second["ocr_boxes"]) > 0.5


def test_mean_reduction_averages_over_the_sampled_frames(half_text) -> None:
    path, _ = half_text
    row = _row(path, width=640, height=360, fps=24.0, num_frames=96)
    peak = apply(build("ocr", {"max_frames": 8}), [row])[0]
    mean = apply(build("ocr", {"max_frames": 8, "reduce": "mean"}), [row])[0]
    assert 0.3 * peak["ocr"] < mean["ocr"] < 0.7 * peak["ocr"]
    assert mean["ocr_boxes"] == peak["ocr_boxes"]


def test_cap_limits_detector_calls_per_known_span(half_text, count_calls) -> None:
    path, _ = half_text
    op = build("ocr", {"rate": 24.0, "max_frames": 2})
    op.setup()
    calls = count_calls(op, "_det")
    row = _row(path, width=640, height=360, fps=24.0, num_frames=96, scene_frames=[[0, 48], [48, 96]])
    out = apply(op, [row])[0]
    assert [s["ocr_frames"] for s in out["scene_scores"]] == [2, 2]
    assert len(calls) == 4


def test_span_without_a_sample_takes_the_nearest_one() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 10.0, "scene_frames": [[0, 100]]}, known_spans(row), cap=3, rate=None)
    times = [i / 10 for i in range(100)]
    for index, value in [(0, "a"), (50, "b"), (90, "c")]:
        sampler.samples.append((index, times[index], value))
    picked = sampler.pick([(0, 40), (41, 45), (60, 80), (85, 100)], times, str)
    assert picked == [["a"], ["b"], ["b"], ["c"]]


def test_unknown_spans_keep_candidates_and_score_only_the_centred_picks() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x"}, known_spans(row), cap=3, rate=1.0)
    calls = []
    for i in range(10):
        sampler.offer(10 * i, float(i), np.full((16, 16), 20 * i, np.uint8), lambda f: calls.append(1) or 0)
    assert not sampler.known and calls == []
    picked = sampler.pick([(0, 100)], [i / 10 for i in range(100)], lambda f: int(round(f.mean() / 20)))
    assert picked == [[1, 5, 8]] and centred(10, 3) == [1, 5, 8]


def test_candidate_store_is_bounded_and_stays_evenly_spread() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x"}, known_spans(row), cap=2, rate=1.0, max_candidates=8)
    for i in range(100):
        sampler.offer(i, float(i), np.zeros((8, 8), np.uint8), int)
    kept = [c[0] for c in sampler.candidates]
    assert len(kept) < 8
    assert len({b - a for a, b in zip(kept, kept[1:])}) == 1


def test_known_spans_score_frames_near_centred_targets_as_they_arrive() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 10.0, "scene_frames": [[0, 100], [100, 105]]}, known_spans(row), cap=2,
                          rate=1.0)
    for i in range(0, 105, 10):
        sampler.offer(i, i / 10, np.zeros((4, 4), np.uint8), lambda f, i=i: i)
    assert [s.index for s in sampler.samples] == [20, 70, 100]
    assert sampler.candidates == []
    assert sampler.pick([(0, 100), (100, 105)], [i / 10 for i in range(105)], str) == [[20, 70], [100]]


def test_known_span_scores_run_on_a_model_thread_with_a_bounded_queue() -> None:
    release = threading.Event()
    threads: set[str] = set()
    niceness: set[int] = set()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) if sys.platform.startswith("linux") else 0

    def score(frame: np.ndarray) -> int:
        threads.add(threading.current_thread().name)
        if sys.platform.startswith("linux"):
            niceness.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        release.wait(5)
        return int(frame[0, 0])

    sampler = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 10.0, "num_frames": 200}, known_spans(row), cap=20, rate=10.0)
    feeder = threading.Thread(target=lambda: [
        sampler.offer(i, i / 10, np.full((2, 2), i, np.uint8), score) for i in range(200)
    ])
    feeder.start()
    feeder.join(0.5)
    assert feeder.is_alive() and len(sampler.samples) == MAX_PENDING
    release.set()
    feeder.join(5)
    [values] = sampler.pick([(0, 200)], [i / 10 for i in range(200)], int)
    assert values == [s.index for s in sampler.samples] and len(values) == 20
    assert threads and all(name.startswith("vidcurate-model") for name in threads)
    assert niceness in (set(), {max(own, MODEL_NICENESS)})
    if sys.platform.startswith("linux"):
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


def test_a_failing_model_call_fails_the_pick() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 10.0, "num_frames": 10}, known_spans(row), cap=1, rate=10.0)
    for i in range(10):
        sampler.offer(i, i / 10, np.zeros((2, 2), np.uint8), lambda f: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sampler.pick([(0, 10)], [i / 10 for i in range(10)], int)


def test_prepare_runs_only_on_frames_that_are_scored() -> None:
    sampler = SpanSampler(
        row := {"id": "x", "path": "x", "fps": 10.0, "scene_frames": [[0, 100]]}, known_spans(row), cap=2, rate=10.0)
    prepared = []
    for i in range(100):
        sampler.offer(i, i / 10, np.zeros((4, 4), np.uint8), lambda f: f.shape, lambda f: prepared.append(1) or f[:2])
    assert len(prepared) == len(sampler.samples) == 2
    assert sampler.pick([(0, 100)], [i / 10 for i in range(100)], str) == [[(2, 4), (2, 4)]]


def test_text_area_is_the_union_of_boxes() -> None:
    assert text_area([[0, 0, 10, 10], [5, 5, 15, 15]], 20, 10) == pytest.approx((100 + 50 - 25) / 200)
    assert text_area([], 20, 10) == 0.0


@pytest.mark.parametrize("rel", ["broken/empty.mp4", "broken/not_video.mp4"])
def test_bad_file_becomes_an_error_row(ocr, samples, rel: str) -> None:
    root, _ = samples
    out = apply(ocr, [_row(root / rel)])[0]
    assert out["error"].startswith(("decode", "ocr"))
    assert "ocr" not in out


@pytest.mark.parametrize(
    ("key", "value"),
    [("rate", 0), ("max_frames", 0), ("short_side", 8), ("box_score", 1.5), ("min_box", -1), ("max_line", 0),
     ("reduce", "median"), ("threads", 0), ("model_path", "/nonexistent/det.onnx"), ("rate", "fast")],
)
def test_bad_parameter_names_op_and_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"'ocr'.*'{key}'"):
        build("ocr", {key: value})


def test_runs_without_network(samples, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("ocr tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    root, truth = samples
    op = build("ocr", {})
    op.setup()
    out = apply(op, [_row(root / "text/text.mp4", truth["videos"]["text/text.mp4"])])[0]
    assert out["ocr"] > 0


def test_missing_weights_fail_with_a_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import rapidocr

    from vidcurate.ops.ocr import default_det_model

    monkeypatch.setattr(rapidocr, "__file__", str(tmp_path / "rapidocr" / "__init__.py"))
    with pytest.raises(FileNotFoundError, match="PP-OCR detection weights.*model_path"):
        default_det_model()


TEXT_FILES = ["datajuicer_video2.mp4", "moviepy_smpte-2997.mp4", "pyscenedetect_counter.mp4",
              "torchcodec_h265_video.mp4"]
TEXTLESS_FILES = ["kivy_cityCC0.mpg", "opencv_Megamind.avi", "opencv_tree.avi", "torchcodec_nasa_13013.mp4"]


@pytest.mark.parametrize("name", TEXT_FILES + TEXTLESS_FILES)
def test_real_footage_with_burned_in_text_scores_clearly(external: Path, name: str) -> None:
    from vidcurate.media.probe import probe

    info = probe(external / name)
    row = _row(external / name, **{k: info[k] for k in ("width", "height", "fps", "num_frames") if info.get(k)})
    out = apply(build("ocr", {"max_frames": 2}), [row])[0]
    assert not out.get("error")
    if name in TEXT_FILES:
        assert out["ocr"] > 0.03
    else:
        assert out["ocr"] < 0.01


def test_unknown_span_keeps_candidates_and_runs_the_detector_only_on_the_picks(half_text, count_calls) -> None:
    path, boxes = half_text
    op = build("ocr", {"rate": 4.0, "max_frames": 2})
    op.setup()
    calls = count_calls(op, "_det")
    out = apply(op, [_row(path, width=640, height=360)])[0]
    assert out["ocr_frames"] == 2 and len(calls) == 2
    assert max(iou(boxes[0], found) for found in out["ocr_boxes"]) > 0.5
