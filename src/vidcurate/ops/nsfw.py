"""`nsfw`: a [0, 1] nudity score per span from NudeNet's body-part detector.

NudeNet 3.4 ships a 12 MB YOLOv8n ONNX detector (320 x 320 input) of 18 body-part classes, not a
classifier. The score is derived from its detections:

    frame score = max over detections d of WEIGHTS[d.class] * d.confidence   (0 when there are none)
    span score  = max over the span's sampled frames

A detection is what NudeNet's own `detect` reports before non-maximum suppression: an anchor whose best
class has confidence >= `min_confidence` (NudeNet reports from 0.2; we count from 0.6, see
MIN_CONFIDENCE), labelled with that class. Suppression only removes boxes overlapping a higher-scoring
one, so it never changes the maximum: the score equals the one computed from `NudeDetector.detect`,
without its per-frame box bookkeeping. Covered parts, faces, feet, armpits, belly and male chests
weigh 0. The model runs on frames from the shared decode pass, letterboxed exactly as NudeNet does (pad
right/bottom to a square, resize to 320, /255), in BGR channel order: NudeNet's `_read_image` converts
with COLOR_RGBA2BGR (which swaps a 3-channel image) and then `blobFromImage(swapRB=True)` swaps back, so
the model sees BGR; feeding BGR reproduces its input to float precision.

Frames come from the shared decode pass as the scorers' common analysis frame (RGB, 256 px short side,
`rate` per second; the letterbox maps the long side to 320 px whatever the source size, so nothing is lost
for landscape video) and the model runs on at most `max_frames` per span, evenly spread
(`vidcurate.sampling.SpanSampler`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register
from vidcurate.sampling import ANALYSIS_FMT, ANALYSIS_SIDE, SpanSampler, check_sampled_model_params

LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
"""NudeNet 3.4's class order (the model's output channels 4..21)."""

WEIGHTS: dict[str, float] = {
    "FEMALE_GENITALIA_EXPOSED": 1.0,
    "MALE_GENITALIA_EXPOSED": 1.0,
    "ANUS_EXPOSED": 1.0,
    "FEMALE_BREAST_EXPOSED": 0.8,
    "BUTTOCKS_EXPOSED": 0.6,
}
"""How much a confident detection of each exposed class counts; every other class counts 0."""

MIN_CONFIDENCE = 0.6
"""Detections below this confidence count 0. Every frame of the 29 real, safe files of the external test set,
sampled at 4 per second at the analysis size (raw, and JPEG-compressed as scene candidates are), reaches at
most 0.516 in an explicit class: fingers holding dice and a rocket plume as MALE_GENITALIA_EXPOSED (0.516,
0.508), clothed people as FEMALE_BREAST_EXPOSED (0.454). NudeNet itself reports everything from 0.2 up."""

MODEL_FILE = "320n.onnx"
INPUT_SIZE = 320


def detection_score(detections: Iterable[Mapping[str, Any]], min_confidence: float = MIN_CONFIDENCE) -> float:
    """Frame score from NudeNet-style detections ({"class": name, "score": confidence, ...})."""
    best = 0.0
    for det in detections:
        conf = float(det["score"])
        if conf >= min_confidence:
            best = max(best, WEIGHTS.get(str(det["class"]), 0.0) * conf)
    return round(best, 5)


def output_detections(output: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> list[dict[str, Any]]:
    """NudeNet detections (class, score; before suppression) from the raw model output (1, 22, anchors)."""
    scores = np.asarray(output)[0, 4:, :]
    best = scores.argmax(axis=0)
    conf = scores[best, np.arange(scores.shape[1])]
    keep = np.nonzero(conf >= min_confidence)[0]
    return [{"class": LABELS[best[i]], "score": float(conf[i])} for i in keep]


def output_score(output: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> float:
    """`detection_score` of the raw model output, vectorised (the per-frame path)."""
    scores = np.asarray(output)[0, 4:, :]
    best = scores.argmax(axis=0)
    conf = scores[best, np.arange(scores.shape[1])]
    weights = np.array([WEIGHTS.get(name, 0.0) for name in LABELS], np.float32)[best]
    weighted = np.where(conf >= min_confidence, weights * conf, 0.0)
    return round(float(weighted.max(initial=0.0)), 5)


def letterbox(frame: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """BGR frame -> NudeNet's input blob: pad right/bottom to a square, resize to size, NCHW float /255."""
    import cv2

    height, width = frame.shape[:2]
    side = max(height, width)
    square = np.zeros((side, side, 3), np.uint8)
    square[:height, :width] = frame
    if side != size:
        square = cv2.resize(square, (size, size), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(square.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


@register
class Nsfw(FrameOp):
    """NSFW score in [0, 1] per span: max over sampled frames of the weighted NudeNet detections."""

    name = "nsfw"
    resources = Resources(cpus=1.0, memory_mb=400)
    produces = (
        Column("nsfw", "float", "0-1", "max over sampled frames of weight[class] x confidence of NudeNet detections"),
        Column("nsfw_frames", "int", "frame", "sampled frames scored for the span"),
    )

    rate: float = 1.0
    max_frames: int = 4
    min_confidence: float = MIN_CONFIDENCE
    threads: int = 1
    model_path: str = ""

    def validate(self) -> None:
        check_sampled_model_params(self)
        if not 0 < self.min_confidence < 1:
            raise self.bad("min_confidence", f"must be within (0, 1), got {self.min_confidence}")

    def setup(self) -> None:
        """Open NudeNet's packaged ONNX detector in an onnxruntime session (CPU)."""
        if getattr(self, "_session", None) is not None:
            return
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        model = Path(self.model_path) if self.model_path else default_model()
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt=ANALYSIS_FMT, short_side=ANALYSIS_SIDE, rate=self.rate)

    def start(self, row: Row, spans: list[Span] | None) -> SpanSampler:
        self.setup()
        return SpanSampler(row, spans, self.max_frames, self.rate)

    def feed(self, state: SpanSampler, index: int, t: float, frame: np.ndarray) -> None:
        import cv2

        state.offer(index, t, frame, self.score, lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def score(self, frame: np.ndarray) -> float:
        """The frame score of one BGR frame."""
        return output_score(self.infer(frame), self.min_confidence)

    def infer(self, frame: np.ndarray) -> np.ndarray:
        """The model's raw output (1, 22, 2100) for one BGR frame."""
        return self._session.run(None, {self._input: letterbox(frame)})[0]

    def finish(self, state: SpanSampler, row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        return [{"nsfw": max(scores), "nsfw_frames": len(scores)} for scores in state.pick(spans, times, self.score)]


def default_model() -> Path:
    """NudeNet's packaged detector; fail fast with a fix when the package or its weights are missing."""
    try:
        import nudenet
    except ImportError as e:
        raise RuntimeError("nsfw needs the 'nudenet' (3.4) package, which ships its detector: pip install "
                           "nudenet") from e
    path = Path(nudenet.__file__).parent / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"nsfw: NudeNet weights {MODEL_FILE} are not in the nudenet package ({path.parent}); reinstall "
            "nudenet>=3.4 (its wheel ships them) or give model_path=<a NudeNet 320n .onnx file>"
        )
    return path
