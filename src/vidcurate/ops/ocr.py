"""`ocr`: how much of each span is covered by on-screen text (PP-OCR text detection, no recognition).

Training sets for text-to-video drop clips with burned-in captions, watermarks and title cards, so the
score is the text area, not the words: only the detection stage of PP-OCR (the DB detector that ships
inside the `rapidocr` wheel, run by onnxruntime) is used. Frames come from the shared decode pass at
`rate` per second; the detector runs on at most `max_frames` of them per span, evenly spread
(`vidcurate.sampling.SpanSampler`), so its cost is per scene, not per second of video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.ops.base import FrameOp, FrameSpec, Resources, Span, register
from vidcurate.sampling import ANALYSIS_FMT, SpanSampler, analysis_spec_side, check_sampled_model_params, shrink

DET_MODEL = "PP-OCRv6_det_small.onnx"


def text_area(boxes: list[list[int]], width: int, height: int) -> float:
    """Share of a width x height frame covered by the union of axis-aligned boxes."""
    if not boxes or width <= 0 or height <= 0:
        return 0.0
    mask = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        mask[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)] = True
    return float(mask.mean())


@register
class Ocr(FrameOp):
    """Text area ratio per span from PP-OCR text detection, plus the text boxes in display pixels.

    Per sampled frame: detect text quads (DB detector at the frame's analysis size rounded to multiples of
    32), keep those with score >= `box_score` that look like a line of text (`_is_text_line`: height at
    least `min_box` analysis pixels, at most `max_line` of the frame's short side, since fine texture can
    light up the whole probability map, and elongated when tall), take their axis-aligned bounding boxes
    and measure the union area / frame area. Per span: `ocr` is the max (default; a caption card anywhere
    in the clip counts) or the mean over sampled frames, `ocr_boxes` are the boxes of the sampled frame
    with the most text, scaled to display pixels, and `ocr_frames` is how many frames were scored.
    """

    name = "ocr"
    resources = Resources(cpus=1.0, memory_mb=600)
    produces = (
        Column("ocr", "float", "0-1", "text area / frame area (union of detected text boxes), max over sampled frames"),
        Column("ocr_boxes", "json", "px", "[x0, y0, x1, y1] in display pixels, from the sampled frame with most text"),
        Column("ocr_frames", "int", "frame", "sampled frames scored for the span"),
    )

    rate: float = 1.0
    max_frames: int = 2
    short_side: int = 192
    box_score: float = 0.6
    min_box: int = 6
    max_line: float = 0.4
    reduce: Literal["max", "mean"] = "max"
    threads: int = 1
    model_path: str = ""

    def validate(self) -> None:
        check_sampled_model_params(self)
        if not 32 <= self.short_side <= 2160:
            raise self.bad("short_side", f"must be within 32..2160 pixels, got {self.short_side}")
        if not 0 < self.box_score < 1:
            raise self.bad("box_score", f"must be within (0, 1), got {self.box_score}")
        if self.min_box < 0:
            raise self.bad("min_box", f"must be >= 0 pixels, got {self.min_box}")
        if not 0 < self.max_line <= 1:
            raise self.bad("max_line", f"must be within (0, 1], got {self.max_line}")

    def setup(self) -> None:
        """Load the packaged PP-OCR detection model (never downloads: the model path is always given)."""
        if getattr(self, "_det", None) is not None:
            return
        model = Path(self.model_path) if self.model_path else default_det_model()
        from rapidocr import RapidOCR

        engine = RapidOCR(params={
            "Global.use_cls": False,
            "Global.use_rec": False,
            "Global.log_level": "warning",
            "Det.model_path": str(model),
            "Det.limit_type": "max",
            "Det.limit_side_len": 4096,
            "Det.box_thresh": self.box_score,
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        self._det = engine._load_det_model()

    def frame_spec(self) -> FrameSpec:
        return FrameSpec(fmt=ANALYSIS_FMT, short_side=analysis_spec_side(self.short_side), rate=self.rate)

    def start(self, row: Row, spans: list[Span] | None) -> dict[str, Any]:
        self.setup()
        return {"sampler": SpanSampler(row, spans, self.max_frames, self.rate), "size": None}

    def feed(self, state: dict[str, Any], index: int, t: float, frame: np.ndarray) -> None:
        def prepare(rgb: np.ndarray) -> np.ndarray:
            import cv2

            small = shrink(rgb, self.short_side)
            state["size"] = (small.shape[1], small.shape[0])
            return cv2.cvtColor(small, cv2.COLOR_RGB2BGR)

        state["sampler"].offer(index, t, frame, self.detect, prepare)

    def detect(self, frame: np.ndarray) -> list[list[int]]:
        """Axis-aligned text boxes [x0, y0, x1, y1] (x1/y1 exclusive) in a BGR frame's pixels."""
        result = self._det(frame)
        if result.boxes is None or not len(result.boxes):
            return []
        boxes = []
        for quad, score in zip(result.boxes, result.scores):
            if score < self.box_score:
                continue
            pts = np.asarray(quad, np.float32)
            sides = sorted((np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[3] - pts[0])))
            if not _is_text_line(sides[0], sides[1], min(frame.shape[:2]), self.min_box, self.max_line):
                continue
            x0, y0 = np.floor(pts.min(axis=0)).astype(int)
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
            boxes.append([int(x0), int(y0), int(x1), int(y1)])
        return boxes

    def finish(self, state: dict[str, Any], row: Row, spans: list[Span], times: list[float]) -> list[dict[str, Any]]:
        width, height = state["size"] or (0, 0)
        disp_w, disp_h = int(row.get("width") or width), int(row.get("height") or height)
        sx, sy = (disp_w / width, disp_h / height) if width and height else (1.0, 1.0)
        out = []
        for boxes_per_frame in state["sampler"].pick(spans, times, self.detect):
            areas = [text_area(b, width, height) for b in boxes_per_frame]
            best = int(np.argmax(areas))
            score = max(areas) if self.reduce == "max" else float(np.mean(areas))
            boxes = [_scale(b, sx, sy, disp_w, disp_h) for b in boxes_per_frame[best]]
            out.append({"ocr": round(score, 5), "ocr_boxes": boxes, "ocr_frames": len(areas)})
        return out


def _is_text_line(height: float, length: float, frame_side: int, min_box: int, max_line: float) -> bool:
    """Whether a detected quad (short side `height`, long side `length`) is plausibly a line of text.

    Lines shorter than `min_box` pixels are dropped as noise and lines taller than `max_line` of the frame's
    short side as texture. Lines taller than half of that must be at least twice as long as tall: big
    title words are elongated, while the compact high-contrast blobs that DB also fires on (an aircraft
    against the sky, a coin; measured on the external set) are not.
    """
    if height < min_box or height > max_line * frame_side:
        return False
    return height <= 0.5 * max_line * frame_side or length >= 2 * height


def _scale(box: list[int], sx: float, sy: float, width: int, height: int) -> list[int]:
    x0, y0, x1, y1 = box
    return [
        max(0, int(np.floor(x0 * sx))),
        max(0, int(np.floor(y0 * sy))),
        min(width, int(np.ceil(x1 * sx))),
        min(height, int(np.ceil(y1 * sy))),
    ]


def default_det_model() -> Path:
    """The PP-OCR detection model packaged in the rapidocr wheel; fail fast with a fix when absent."""
    try:
        import rapidocr
    except ImportError as e:
        raise RuntimeError("ocr needs the 'rapidocr' (3.x) and 'onnxruntime' packages: pip install rapidocr "
                           "onnxruntime") from e
    path = Path(rapidocr.__file__).parent / "models" / DET_MODEL
    if not path.is_file():
        raise FileNotFoundError(
            f"ocr: PP-OCR detection weights {DET_MODEL} are not in the rapidocr package ({path.parent}); "
            "reinstall rapidocr>=3 (its wheel ships them) or give model_path=<a PP-OCR det .onnx file>"
        )
    return path
