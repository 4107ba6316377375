"""Clip cutting speed on a 720p source, as ratios against a plain decode measured in the same process.

    python benchmarks/cut.py [VIDEO]

Default source: ../shared/testdata/external/dvrscan_traffic_camera.mp4 (1280x720 H.264), else a synthetic
720p file. Prints x-realtime (clip seconds written per wall second) for encode presets and copy mode, and
the cost of a late clip (seek) relative to decoding the source up to that point.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from vidcurate.media.cut import EncodeSettings, copy_clip, encode_clip, frame_table

EXTERNAL = Path(__file__).resolve().parents[2] / "shared/testdata/external/dvrscan_traffic_camera.mp4"


def synthetic(path: Path) -> Path:
    from vidcurate.media.synth import texture, write_video

    rng = np.random.default_rng(0)
    canvas = texture(rng, 720, 1280 + 480, (120, 140, 90))
    write_video(path, (np.ascontiguousarray(canvas[:, i * 2 : i * 2 + 1280]) for i in range(240)), fps=24)
    return path


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else (EXTERNAL if EXTERNAL.is_file() else synthetic(tmp / "s.mp4"))
    table = frame_table(src)
    n = table.num_frames
    seconds = table.seconds(n)

    def decode_all() -> None:
        with av.open(str(src)) as c:
            c.streams.video[0].thread_type = "AUTO"
            for _ in c.decode(video=0):
                pass

    base = timed(decode_all)
    print(f"source {src.name}: {n} frames, {seconds:.1f} s; plain decode {n / base:.0f} fps "
          f"({seconds / base:.1f}x realtime)")
    for preset in ("ultrafast", "veryfast", "fast"):
        dt = timed(lambda p=preset: encode_clip(src, tmp / f"{p}.mp4", 0, n, EncodeSettings(preset=p), table=table))
        print(f"encode crf 18 {preset:9s}: {seconds / dt:5.2f}x realtime, {dt / base:5.2f}x decode time")
    dt = timed(lambda: encode_clip(src, tmp / "small.mp4", 0, n, EncodeSettings(shorter_side=360), table=table))
    print(f"encode veryfast 360p     : {seconds / dt:5.2f}x realtime, {dt / base:5.2f}x decode time")
    dt = timed(lambda: copy_clip(src, tmp / "copy.mp4", 0, n, table=table))
    print(f"copy                     : {seconds / dt:5.0f}x realtime, {dt / base:5.3f}x decode time")
    late = max(0, n - n // 8)
    dt = timed(lambda: encode_clip(src, tmp / "late.mp4", late, n, EncodeSettings(preset="ultrafast"), table=table))
    part = timed(lambda: encode_clip(src, tmp / "late0.mp4", late, n, EncodeSettings(preset="ultrafast"),
                                     table=type(table)(**{**table.__dict__, "exact": False})))
    print(f"last 1/8 clip: seek {dt:.2f} s vs decode-from-start {part:.2f} s ({part / dt:.1f}x)")
    t_table = timed(lambda: frame_table(src))
    print(f"frame table (demux): {t_table * 1000:.0f} ms = {t_table / base:.3f}x decode time")


if __name__ == "__main__":
    main()
