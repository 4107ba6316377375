"""Many small files through the default recipe: the per-file cost of a run against a plain decode of each file.

    python benchmarks/small_files.py [--files 500] [--workers 2]

Generates N distinct 1-2 s 320x240 24 fps H.264 files (a textured scene panning, half of them with a hard
cut), then, in this process: decodes every file once with PyAV (the floor: T_dec), and runs the default
recipe over the first N/10 and over all N files into fresh output folders (T_small, T_all). Prints the wall
times, the marginal cost per file, (T_all - T_small) / (0.9 N), against a plain decode of one file
(T_dec / N), and the per-stage time of the big run from run.json. Goals (issue "Performance"): T_all under
40 s for 500 files on 2 cores, marginal cost under 3x a plain decode.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from vidcurate import api
from vidcurate.media.synth import PALETTE, texture, write_video

ROOT = Path(__file__).resolve().parents[1]
SIZE = (320, 240)
FPS = 24


def make_files(folder: Path, n: int) -> list[Path]:
    """n distinct short clips: 1-2 s, a pan over a texture, a hard cut in every other one."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(PALETTE)
    width, height = SIZE
    paths = []
    for i in range(n):
        rng = np.random.default_rng([i, 0x5A11])
        frames = int(FPS * (1 + (i % 5) / 4))
        shots = [texture(rng, height, width + frames * 2, PALETTE[names[(i + k) % len(names)]]) for k in range(2)]
        cut = frames // 2 if i % 2 else frames

        def pixels(shots: list[np.ndarray] = shots, cut: int = cut, frames: int = frames):
            for f in range(frames):
                yield np.ascontiguousarray(shots[f >= cut][:, 2 * f:2 * f + width])

        path = folder / f"small_{i:05d}.mp4"
        write_video(path, pixels(), fps=FPS)
        paths.append(path)
    return paths


def plain_decode(paths: list[Path]) -> float:
    """Wall seconds to decode every frame of every file once (PyAV, threaded), no conversion."""
    start = time.perf_counter()
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _ in container.decode(stream):
                pass
    return time.perf_counter() - start


def timed_run(folder: Path, out: Path, workers: int) -> float:
    start = time.perf_counter()
    api.run(ROOT / "recipes" / "default.yaml", folder, out, workers=workers, overwrite=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vidcurate-small-"))
    try:
        paths = make_files(tmp / "all", args.files)
        few = tmp / "few"
        few.mkdir()
        for path in paths[: args.files // 10]:
            (few / path.name).symlink_to(path)
        t_dec = min(plain_decode(paths) for _ in range(2))
        t_small = timed_run(few, tmp / "out_few", args.workers)
        t_all = timed_run(tmp / "all", tmp / "out_all", args.workers)
        n_small = args.files // 10
        marginal = (t_all - t_small) / (args.files - n_small)
        print(f"{args.files} files of {SIZE[0]}x{SIZE[1]}, 1-2 s; default recipe, {args.workers} workers")
        print(f"plain decode of all files : {t_dec:7.2f} s ({1000 * t_dec / args.files:.1f} ms per file)")
        print(f"run over {n_small:4d} files      : {t_small:7.2f} s")
        print(f"run over {args.files:4d} files      : {t_all:7.2f} s (goal < 40 s for 500 files)")
        print(f"marginal cost per file    : {1000 * marginal:7.1f} ms = {marginal / (t_dec / args.files):.1f}x a plain "
              "decode (goal < 3x)")
        timings = json.loads((tmp / "out_all" / "run.json").read_text())["timings"]
        print("phases:", ", ".join(f"{k} {v:.2f} s" for k, v in timings["phases"].items()))
        for stage in timings["stages"]:
            print(f"  {stage['stage'][:60]:60s} wall {stage['wall_s']:7.2f} s  cpu {stage['cpu_s']:7.2f} s  "
                  f"setup {stage['setup_s']:5.2f} s  frames {stage['frames']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
