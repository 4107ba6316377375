"""One sampling policy for frame scorers whose model is expensive: run the model per span, not per second.

Frame ops get frames from the shared decode pass at their `rate`. A scorer such as OCR, NudeNet or a face
detector should run its model on at most `cap` frames per span (scene), evenly spread, whatever the span's
length. `SpanSampler` does that in both situations a decode pass can be in:

- spans known before decoding (`rows.known_spans`: a scene row, a clip, a source whose `scene_frames` came from
  an earlier step): each span gets `cap` target times at the centres of `cap` equal parts of the span, and
  the delivered frame nearest each target (within half a delivery period) is scored as it arrives, on the
  op's model thread, so decoding goes on meanwhile (onnxruntime and OpenCV release the GIL); at most
  `MAX_PENDING` frames wait for that thread, and nothing else is stored;
- spans found in the same pass (a scene detector fused alongside): every delivered frame is kept as a
  candidate, JPEG-compressed (`cv2.imencode`, quality `JPEG_QUALITY`), and `pick` scores only the chosen
  candidates once the spans are known, at the centres of `cap` equal parts of each span's candidates.

Memory bound (unknown spans): at most `MAX_CANDIDATES` candidates per op and source. When the store fills,
every other candidate is dropped and only every second delivered frame is kept from then on, so the
candidates stay evenly spread over the whole source; at the default analysis size (256 px short side) a
JPEG is 20-40 KB, so an hour-long source holds <= ~80 MB per op. Costs: encoding ~0.4 ms and decoding
~0.7 ms per 456x256 RGB frame, against tens of ms per model call.

A span that received no sample (shorter than the delivery period, or between two kept candidates) is
scored from the sample nearest in time to its middle, which may lie in a neighbouring span.

Every model call of an op, in both situations, runs on that op's one model thread (`model_thread`), so the
calls of one op never overlap: models such as OpenCV's cascades are not safe to call concurrently, and a
failed row's queued calls may still be running when the next row starts.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, NamedTuple

import numpy as np

from vidcurate.rows import Row, Span

ANALYSIS_FMT = "rgb24"
ANALYSIS_SIDE = 256
"""The frame format and short side the CPU scorers (quality, ocr, nsfw, face) ask for by default: the decode
pass converts once per distinct (size, format), and a conversion costs about as much as decoding."""



def analysis_spec_side(short_side: int) -> int:
    """The short side to ask the decode pass for when an op analyses at `short_side`: the shared analysis
    size when that is at least as large (the op then shrinks the frame itself with `shrink`, ~0.1 ms, instead
    of a second conversion in the decode pass, ~1 ms), else `short_side`."""
    return max(short_side, ANALYSIS_SIDE)


def shrink(frame: np.ndarray, short_side: int) -> np.ndarray:
    """`frame` scaled down (area interpolation) so its short side is `short_side`; unchanged when not larger."""
    height, width = frame.shape[:2]
    if min(height, width) <= short_side:
        return frame
    import cv2

    scale = short_side / min(height, width)
    size = (max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


MAX_CANDIDATES = 2048
JPEG_QUALITY = 90
MAX_PENDING = 4
"""Known spans: frames that may queue for a sampler's model thread before the decode pass waits for it."""
MODEL_NICENESS = 10
"""Scheduling niceness of the model threads (Linux, per thread): the decoder is the decode pass's critical
path, so the model calls take the cores it leaves idle rather than slowing it (the six fused scorers ran
2-3.5% faster in wall time, median of 8 interleaved runs, than at the same priority)."""


def _model_thread_priority() -> None:
    """Initializer of a model thread: lower its own priority (best effort; other threads keep theirs)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), MODEL_NICENESS)


_MODEL_THREADS: dict[int, ThreadPoolExecutor] = {}


def model_thread(score: Callable[[np.ndarray], Any]) -> ThreadPoolExecutor:
    """The one model thread of the op that owns `score` (a bound method; else the callable itself), created
    on first use and let go when the op is garbage-collected."""
    owner = getattr(score, "__self__", score)
    key = id(owner)
    if key not in _MODEL_THREADS:
        _MODEL_THREADS[key] = ThreadPoolExecutor(1, thread_name_prefix="vidcurate-model",
                                                 initializer=_model_thread_priority)
        weakref.finalize(owner, _MODEL_THREADS.pop, key, None)
    return _MODEL_THREADS[key]


def check_sampled_model_params(op: Any) -> None:
    """ConfigErrors for the parameters every sampled-model scorer has: `rate`, `max_frames`, and (where the
    op has them) onnxruntime `threads` and a `model_path` that must exist."""
    from pathlib import Path

    if not op.rate > 0:
        raise op.bad("rate", f"must be > 0 samples per second, got {op.rate}")
    if op.max_frames < 1:
        raise op.bad("max_frames", f"must be >= 1, got {op.max_frames}")
    if getattr(op, "threads", 1) < 1:
        raise op.bad("threads", f"must be >= 1, got {op.threads}")
    if getattr(op, "model_path", "") and not Path(op.model_path).is_file():
        raise op.bad("model_path", f"no such file: {op.model_path}")


class Sample(NamedTuple):
    """One scored frame: decode index, time in seconds, and whatever the op's score function returned (or
    the `Future` of it while the model thread works)."""

    index: int
    t: float
    value: Any


def nearest(samples: list[Any], start: int, end: int, times: list[float]) -> Any:
    """The sample (anything with `.index` and `.t`) nearest in time to the middle of [start, end)."""
    if times:
        first = times[min(max(start, 0), len(times) - 1)]
        last = times[min(max(end - 1, 0), len(times) - 1)]
        middle = (first + last) / 2
        return min(samples, key=lambda s: abs(s.t - middle))
    middle = (start + end - 1) / 2
    return min(samples, key=lambda s: abs(s.index - middle))


def centred(n: int, cap: int) -> list[int]:
    """Indices of `cap` evenly spread items out of `n`, each at the centre of its part (all when n <= cap)."""
    if n <= cap:
        return list(range(n))
    return [int((i + 0.5) * n / cap) for i in range(cap)]


class SpanSampler:
    """At most `cap` model calls per span, evenly spread; see the module docstring.

    `rate` is the op's delivery rate (frames per second the decode pass hands it), used to decide which
    delivered frame is nearest a target time. Use: `offer` every delivered frame from `feed`, then `pick`
    in `finish`.
    """

    def __init__(self, row: Row, spans: list[Span] | None, cap: int, rate: float | None,
                 max_candidates: int = MAX_CANDIDATES) -> None:
        self.cap = cap
        self.spans = sorted(spans) if spans is not None else None
        self.starts = [s for s, _ in self.spans] if self.spans else []
        self.fps = float(row.get("fps") or 0)
        self.slack = 0.5 / rate if rate else 0.0
        self.next_target: dict[int, int] = {}
        self.samples: list[Sample] = []
        self.candidates: list[tuple[int, float, np.ndarray]] = []
        self.max_candidates = max(2, max_candidates)
        self.stride = 1
        self.offered = 0

    @property
    def known(self) -> bool:
        """Whether the spans were known before decoding (frames are scored as they arrive, none stored)."""
        return self.spans is not None

    def offer(
        self,
        index: int,
        t: float,
        frame: np.ndarray,
        score: Callable[[np.ndarray], Any],
        prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """A delivered frame: score it now if it is a planned pick, or keep it as a compressed candidate.

        `prepare` (resize, colour order) turns the delivered frame into what `score` takes; it runs only on
        frames that are scored or kept, not on the ones passed over.
        """
        if self.spans is not None:
            if self.want(index, t):
                self.samples.append(Sample(index, t, self._submit(score, prepare(frame) if prepare else frame)))
            return
        self.offered += 1
        if (self.offered - 1) % self.stride:
            return
        import cv2

        if prepare:
            frame = prepare(frame)
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError(f"could not JPEG-encode a {frame.shape} frame")
        self.candidates.append((index, t, buf))
        if len(self.candidates) >= self.max_candidates:
            self.candidates = self.candidates[::2]
            self.stride *= 2

    def _submit(self, score: Callable[[np.ndarray], Any], frame: np.ndarray) -> Future:
        """`score(frame)` queued on the op's model thread; first waits while MAX_PENDING are queued."""
        queued = [s.value for s in self.samples[-MAX_PENDING:] if isinstance(s.value, Future) and not s.value.done()]
        if len(queued) >= MAX_PENDING:
            queued[0].exception()
        return model_thread(score).submit(score, frame)

    def want(self, index: int, t: float) -> bool:
        """Known spans: whether this delivered frame is the one nearest the span's next target time."""
        if not self.spans:
            return True
        k = bisect.bisect_right(self.starts, index) - 1
        if k < 0 or index >= self.spans[k][1]:
            return True
        start, end = self.spans[k]
        j = self.next_target.get(k, 0)
        if j >= self.cap:
            return False
        if self.fps <= 0:
            self.next_target[k] = j + 1
            return True
        period = (end - start) / self.fps / self.cap
        target = start / self.fps + (j + 0.5) * period
        if t + self.slack + 1e-6 < target:
            return False
        while j < self.cap and start / self.fps + (j + 0.5) * period <= t + self.slack + 1e-6:
            j += 1
        self.next_target[k] = j
        return True

    def pick(self, spans: list[Span], times: list[float], score: Callable[[np.ndarray], Any]) -> list[list[Any]]:
        """Per span, the values of up to `cap` evenly spread samples inside it (or of the nearest one).

        With unknown spans this is where the model runs: only on the chosen candidates, each at most once.
        """
        import cv2

        wait([s[2] for s in self.samples if isinstance(s[2], Future)])
        pool: list[Any] = self.samples if self.spans is not None else self.candidates
        if not pool:
            raise ValueError("no frame was sampled")
        pool = sorted(pool, key=lambda s: s[0])
        indices = [s[0] for s in pool]
        scored: dict[int, Any] = {}

        def value(k: int) -> Any:
            if self.spans is not None:
                found = pool[k][2]
                return found.result() if isinstance(found, Future) else found
            if k not in scored:
                frame = cv2.imdecode(pool[k][2], cv2.IMREAD_UNCHANGED)
                scored[k] = model_thread(score).submit(score, frame).result()
            return scored[k]

        out = []
        for start, end in spans:
            lo, hi = bisect.bisect_left(indices, start), bisect.bisect_left(indices, end)
            chosen = [lo + i for i in centred(hi - lo, self.cap)]
            if not chosen:
                near = nearest([Sample(p[0], p[1], k) for k, p in enumerate(pool)], start, end, times)
                chosen = [near.value]
            out.append([value(k) for k in chosen])
        return out


PNG_LEVEL = 1
"""zlib level of the lossless PNG frames the scan hands to model stages (1: ~1 ms per 224x224 crop)."""


def pack_frames(frames: list[np.ndarray]) -> list[str]:
    """Frames as base64 PNG text: lossless (a model scores exactly the pixels the scan saw), compact, and
    JSON-safe, so they travel in a manifest column between the scan and a model stage."""
    import base64

    import cv2

    out = []
    for frame in frames:
        pixels = frame[..., ::-1] if frame.ndim == 3 and frame.shape[2] == 3 else frame
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(pixels), [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
        if not ok:
            raise ValueError(f"could not PNG-encode a {frame.shape} frame")
        out.append(base64.b64encode(buf.tobytes()).decode("ascii"))
    return out


def unpack_frames(packed: list[str]) -> list[np.ndarray]:
    """The arrays `pack_frames` packed (RGB order restored)."""
    import base64

    import cv2

    out = []
    for text in packed:
        frame = cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise ValueError("a packed frame is not a valid PNG")
        out.append(np.ascontiguousarray(frame[..., ::-1]) if frame.ndim == 3 else frame)
    return out
