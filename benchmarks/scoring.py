"""All CPU scorers fused into one decode pass vs one plain decode of the same 720p source.

Target: the fused group (motion, cmotion, ocr, quality, nsfw, face; whichever are registered) costs at most
1.5x a plain PyAV decode of the file, with exactly one decode per source. Each scorer is also timed alone so
the incremental cost of each is visible. Everything is measured in this process, best of `--repeat` runs.

    python benchmarks/scoring.py [VIDEO] [--repeat 2] [--ops motion,quality,...] [--set face.rate=0.5 ...]

VIDEO defaults to ../shared/testdata/external/dvrscan_traffic_camera.mp4 (1280x720 H.264, 23 s); without it a
720p synthetic clip is generated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import yaml

from vidcurate.errors import ConfigError
from vidcurate.exec.apply import set_strict
from vidcurate.exec.plan import build_stages, run_rows
from vidcurate.media.decode import DECODES
from vidcurate.ops.base import REGISTRY, build

SCORERS = ("motion", "cmotion", "ocr", "quality", "nsfw", "face")
TARGET = 1.5
EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "external"
DEFAULT_VIDEO = EXTERNAL / "dvrscan_traffic_camera.mp4"


def plain_decode(path: Path) -> int:
    """Decode every frame the way the shared pass does (threaded, no conversion); return the frame count."""
    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            count += 1
    return count


def synthetic_720p(folder: Path, seconds: float = 10.0, fps: float = 25.0) -> Path:
    """A 1280x720 clip of a textured canvas panning sideways (every frame differs, as in real footage)."""
    from vidcurate.media.synth import PALETTE, texture, write_video

    n = int(seconds * fps)
    canvas = texture(np.random.default_rng(0), 720, 1280 + 2 * n, PALETTE["teal"])
    path = folder / "synthetic_720p.mp4"
    write_video(path, (np.ascontiguousarray(canvas[:, 2 * i : 2 * i + 1280]) for i in range(n)), fps=fps, crf=23)
    return path


def best_of(repeat: int, fn: Any) -> float:
    """Fastest wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def prepare(specs: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Fused stages for the specs, with models loaded (setup is not part of the per-source cost)."""
    stages = build_stages(specs)
    for stage in stages:
        stage.setup()
    return stages


def run_once(stages: list[Any], path: Path) -> dict[str, Any]:
    """Score one source; raise if any op failed on it (a failing op would time as suspiciously cheap)."""
    [row] = run_rows(stages, [{"id": "bench", "path": str(path)}])
    if row.get("error"):
        raise RuntimeError(row["error"])
    return row


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """`face.rate=0.5` -> {'face': {'rate': 0.5}} (values parsed as YAML)."""
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        key, _, value = item.partition("=")
        op, _, param = key.partition(".")
        params.setdefault(op, {})[param] = yaml.safe_load(value)
    return params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ops", default=",".join(SCORERS), help="comma-separated scorer names")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="op.param=value override")
    args = parser.parse_args()
    set_strict(True)
    build("probe")  # imports every op module, filling the registry
    overrides = parse_sets(args.sets)

    tmp = tempfile.TemporaryDirectory()
    video = args.video or (DEFAULT_VIDEO if DEFAULT_VIDEO.is_file() else synthetic_720p(Path(tmp.name)))
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
    frames = plain_decode(video)
    t_plain = best_of(args.repeat, lambda: plain_decode(video))
    print(f"source: {video} ({width}x{height}, {frames} frames)")
    print(f"plain decode: {t_plain:.3f} s ({frames / t_plain:.0f} fps)\n")

    available: list[tuple[str, dict[str, Any]]] = []
    alone: dict[str, float] = {}
    print(f"{'scorer':<10} {'alone s':>8} {'+cost s':>8} {'x plain':>8}  params")
    for name in args.ops.split(","):
        if name not in REGISTRY:
            print(f"{name:<10} skipped: not registered (module not written yet)")
            continue
        spec = (name, overrides.get(name, {}))
        try:
            stages = prepare([spec])
            run_once(stages, video)
        except (ConfigError, RuntimeError, ImportError, OSError) as e:
            print(f"{name:<10} skipped: {type(e).__name__}: {' '.join(str(e).split())[:150]}")
            continue
        t = best_of(args.repeat, lambda stages=stages: run_once(stages, video))
        alone[name] = t
        available.append(spec)
        print(f"{name:<10} {t:8.3f} {t - t_plain:8.3f} {t / t_plain:8.2f}  {build(*spec).params()}")
    if not available:
        print("no scorer could run")
        return 1

    stages = prepare(available)
    before = DECODES[str(video)]
    run_once(stages, video)
    decodes = DECODES[str(video)] - before
    t_all = best_of(args.repeat, lambda: run_once(stages, video))
    ratio = t_all / t_plain
    names = "+".join(n for n, _ in available)
    print(f"\nfused [{names}]: {t_all:.3f} s = {ratio:.2f}x plain decode (target <= {TARGET}x); "
          f"decodes per source = {decodes}")
    if ratio > TARGET:
        worst = max(alone, key=lambda n: alone[n] - t_plain)
        share = (alone[worst] - t_plain) / max(1e-9, t_all - t_plain)
        print(f"over target: {worst} dominates, +{alone[worst] - t_plain:.3f} s alone "
              f"(~{share:.0%} of the fused overhead of {t_all - t_plain:.3f} s)")
    tmp.cleanup()
    return 0 if ratio <= TARGET and decodes == 1 else 2


if __name__ == "__main__":
    sys.exit(main())
