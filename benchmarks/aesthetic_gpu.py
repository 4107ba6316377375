"""Throughput of the `aesthetic` model path (CLIP ViT-L/14 vision tower + LAION head) across batch sizes.

Builds a random-weight ViT-L/14 with the real dimensions, saves it like a hub checkpoint and loads it through
`vidcurate.models.clip.Clip` (the code the op runs: uint8 crops -> normalise on device -> embed -> head), then
times images/s per batch size and prints each as a ratio to the smallest batch, measured in this process.

    python benchmarks/aesthetic_gpu.py                  # cuda, bf16, batches 32..1024
    python benchmarks/aesthetic_gpu.py --smoke          # tiny model on CPU, seconds
    python benchmarks/aesthetic_gpu.py --device cpu --dtype float32 --batches 1 4 8 --seconds 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU (checks the script runs)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024])
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per batch size")
    args = parser.parse_args()

    import torch

    from vidcurate.models.aesthetic_head import build_head
    from vidcurate.models.clip import Clip
    from vidcurate.models.randomclip import TINY_VISION, VIT_L14, save_random_clip

    if args.smoke:
        args.device, args.dtype, args.batches, args.seconds = "cpu", "float32", [1, 2, 4], 0.3
    with tempfile.TemporaryDirectory() as tmp:
        vision = TINY_VISION if args.smoke else VIT_L14
        t0 = time.perf_counter()
        path = save_random_clip(Path(tmp) / "vit", vision=vision, vision_only=True)
        clip = Clip(path, text=False, device=args.device, dtype=args.dtype)
        load_s = time.perf_counter() - t0
    head = build_head(clip.dim).to(clip.device, torch.float32).eval()
    size = clip.prep.crop_height
    print(f"device={clip.device} dtype={clip.dtype} torch={torch.__version__} image={size}px "
          f"params={sum(p.numel() for p in clip.model.parameters()) / 1e6:.0f}M build+save+load={load_s:.1f}s")
    if clip.device.type == "cuda":
        print(f"gpu={torch.cuda.get_device_name(clip.device)}")
    rng = np.random.default_rng(0)
    results: list[tuple[int, float]] = []
    for batch in args.batches:
        crops = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
        try:
            rate = _images_per_second(clip, head, crops, args.seconds)
        except torch.OutOfMemoryError:
            print(f"batch {batch:5d}: out of memory")
            break
        results.append((batch, rate))
        print(f"batch {batch:5d}: {rate:9.2f} images/s  ratio vs batch {results[0][0]}: {rate / results[0][1]:.2f}x")
    best = max(results, key=lambda r: r[1])
    print(f"best batch size: {best[0]} ({best[1]:.2f} images/s)")


def _images_per_second(clip, head, crops: np.ndarray, seconds: float) -> float:
    import torch

    def step() -> None:
        emb = clip.embed_images(crops, len(crops))
        with torch.inference_mode():
            head(torch.from_numpy(emb).to(clip.device)).cpu()

    step()
    _sync(clip)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or done == 0:
        step()
        done += len(crops)
    _sync(clip)
    return done / (time.perf_counter() - start)


def _sync(clip) -> None:
    import torch

    if clip.device.type == "cuda":
        torch.cuda.synchronize(clip.device)


if __name__ == "__main__":
    main()
