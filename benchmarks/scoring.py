"""All CPU scorers fused into one decode pass vs one plain decode of the same 720p source.

Target: the fused group (motion, cmotion, ocr, quality, nsfw, face; whichever are registered) costs at most
1.5x a plain PyAV decode of the file, with exactly one decode per source. The row is probed first with the
`probe` op, as `vidcurate run` and the README's `probe` -> `score` step chain do (the probe's own cost is
printed, and the fused line is also given with it added). Each scorer is also timed alone so
the incremental cost of each is visible. Everything is measured in this process: each configuration's runs
alternate with plain decodes of the same file, and its ratio is best-of-`--repeat` over best-of-`--repeat`
of the plain decodes interleaved with it, so a load change on a shared machine hits both sides. The spread
(worst ratio of one round, run / plain next to it) and the CPU-time ratio (all threads) are printed too.

    python benchmarks/scoring.py [VIDEO] [--synthetic] [--repeat 3] [--ops motion,quality,...] [--set face.rate=0.5]

VIDEO defaults to ../shared/testdata/external/dvrscan_traffic_camera.mp4 (1280x720 H.264, 23 s); without it,
or with `--synthetic`, a 1280x720 synthetic clip is generated with vidcurate.media.synth.write_video.
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
from vidcurate.exec.plan import plan_specs, run_rows
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


def timed(fn: Any) -> tuple[float, float]:
    """Wall and CPU (all threads of this process) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class Ratio:
    """A configuration timed against plain decodes interleaved with it."""

    def __init__(self, repeat: int, fn: Any, plain: Any) -> None:
        runs = []
        for _ in range(repeat):
            runs.append((timed(plain), timed(fn)))
        self.plain = min(p[0] for p, _ in runs)
        self.wall = min(r[0] for _, r in runs)
        self.ratio = self.wall / self.plain
        self.worst = max(r[0] / p[0] for p, r in runs)
        self.cpu = min(r[1] for _, r in runs) / min(p[1] for p, _ in runs)

    def line(self) -> str:
        return (f"{self.wall:8.3f} {self.wall - self.plain:8.3f} {self.ratio:8.2f} {self.worst:7.2f} "
                f"{self.cpu:7.2f}")


def prepare(specs: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Fused stages for the specs, with models loaded (setup is not part of the per-source cost)."""
    stages = plan_specs(specs)
    for stage in stages:
        stage.setup()
    return stages


def probed(path: Path) -> dict[str, Any]:
    """The row of `path` after the `probe` op, as a pipeline hands it to the scorers."""
    [row] = run_rows(prepare([("probe", {})]), [{"id": "bench", "path": str(path)}])
    if row.get("error"):
        raise RuntimeError(row["error"])
    return row


def run_once(stages: list[Any], row: dict[str, Any]) -> dict[str, Any]:
    """Score one probed source; raise if any op failed on it (a failing op would time as suspiciously cheap)."""
    [row] = run_rows(stages, [dict(row)])
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
    parser.add_argument("--synthetic", action="store_true", help="time a generated 1280x720 clip instead")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ops", default=",".join(SCORERS), help="comma-separated scorer names")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="op.param=value override")
    args = parser.parse_args()
    set_strict(True)
    build("probe")  # imports every op module, filling the registry
    overrides = parse_sets(args.sets)

    tmp = tempfile.TemporaryDirectory()
    if args.synthetic or (args.video is None and not DEFAULT_VIDEO.is_file()):
        video = synthetic_720p(Path(tmp.name))
    else:
        video = args.video or DEFAULT_VIDEO
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
    frames = plain_decode(video)
    t_plain = min(timed(lambda: plain_decode(video))[0] for _ in range(args.repeat))
    row = probed(video)
    t_probe = min(timed(lambda: probed(video))[0] for _ in range(args.repeat))
    print(f"source: {video} ({width}x{height}, {frames} frames)")
    print(f"plain decode: {t_plain:.3f} s ({frames / t_plain:.0f} fps); probe: {t_probe:.3f} s "
          f"({t_probe / t_plain:.2f}x)\n")

    available: list[tuple[str, dict[str, Any]]] = []
    alone: dict[str, Ratio] = {}
    print(f"{'scorer':<10} {'alone s':>8} {'+cost s':>8} {'x plain':>8} {'worst':>7} {'x cpu':>7}  params")
    for name in args.ops.split(","):
        if name not in REGISTRY:
            print(f"{name:<10} skipped: not registered (module not written yet)")
            continue
        spec = (name, overrides.get(name, {}))
        try:
            stages = prepare([spec])
            run_once(stages, row)
        except (ConfigError, RuntimeError, ImportError, OSError) as e:
            print(f"{name:<10} skipped: {type(e).__name__}: {' '.join(str(e).split())[:150]}")
            continue
        alone[name] = Ratio(args.repeat, lambda stages=stages: run_once(stages, row), lambda: plain_decode(video))
        available.append(spec)
        print(f"{name:<10} {alone[name].line()}  {build(*spec).params()}")
    if not available:
        print("no scorer could run")
        return 1

    stages = prepare(available)
    before = DECODES[str(video)]
    run_once(stages, row)
    decodes = DECODES[str(video)] - before
    fused = Ratio(args.repeat, lambda: run_once(stages, row), lambda: plain_decode(video))
    names = "+".join(n for n, _ in available)
    print(f"{'fused':<10} {fused.line()}")
    print(f"\nfused [{names}]: {fused.wall:.3f} s = {fused.ratio:.2f}x plain decode ({fused.plain:.3f} s; target "
          f"<= {TARGET}x; worst round {fused.worst:.2f}x; cpu {fused.cpu:.2f}x); decodes per source = {decodes}; "
          f"with the probe {(fused.wall + t_probe) / fused.plain:.2f}x")
    if fused.ratio > TARGET:
        worst = max(alone, key=lambda n: alone[n].wall - alone[n].plain)
        extra = alone[worst].wall - alone[worst].plain
        share = extra / max(1e-9, fused.wall - fused.plain)
        print(f"over target: {worst} dominates, +{extra:.3f} s alone "
              f"(~{share:.0%} of the fused overhead of {fused.wall - fused.plain:.3f} s)")
    tmp.cleanup()
    return 0 if fused.ratio <= TARGET and decodes == 1 else 2


if __name__ == "__main__":
    sys.exit(main())
