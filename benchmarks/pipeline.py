"""Fused `run` vs the same ops as separate step commands, on the same inputs, in one process.

    python benchmarks/pipeline.py [DIR] [--recipe recipes/default.yaml] [--workers N] [--no-cut]

DIR defaults to a fresh synthetic sample set. Prints video-seconds processed per wall-second for the fused
run (one decode per source feeds scenes and every scorer) and for the step-by-step chain (each frame op a
separate command over the previous manifest, as Open-Sora's tools run), their ratio (goal: fused >= 3x), and
the analysis decodes per source in each (goal: 1 fused). Cutting re-reads only the kept spans of a source
to encode them; those reads are counted separately. Encoding costs the same in both chains and so dilutes
the ratio: `--no-cut` leaves the cut op out to compare the analysis alone.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from vidcurate import manifest, recipe
from vidcurate.exec import local
from vidcurate.exec.apply import apply
from vidcurate.ingest import scan_folder
from vidcurate.media import cut, decode
from vidcurate.media.synth import generate
from vidcurate.ops.base import build

ROOT = Path(__file__).resolve().parents[1]


def probed(rows: list[dict]) -> tuple[float, int]:
    """Total duration and count of the sources that probe cleanly (the ones a run decodes)."""
    ok = [r for r in apply(build("probe", {}), rows) if not r.get("error")]
    return sum(float(r["duration"]) for r in ok), len(ok)


def fused(rows: list[dict], specs: list, work: Path, workers: int, shard_size: int) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    out = local.run(rows, recipe.resolve_paths(specs, work), work, workers=workers, shard_size=shard_size)
    return time.perf_counter() - start, out


def steps(rows: list[dict], specs: list, work: Path, workers: int, shard_size: int) -> tuple[float, list[dict]]:
    """Each op as its own step: read the previous manifest, run, write the next (what step commands do)."""
    specs = recipe.resolve_paths(specs, work)
    start = time.perf_counter()
    current = work / "step_00.parquet"
    manifest.write(rows, current)
    for n, spec in enumerate(specs, 1):
        out = local.run(manifest.read(current), [spec], work / f"w{n:02d}", workers=workers, shard_size=shard_size)
        current = manifest.write(out, work / f"step_{n:02d}.parquet")
    return time.perf_counter() - start, manifest.read(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "default.yaml")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (0: all in this process)")
    parser.add_argument("--no-cut", action="store_true", help="leave the cut op out (analysis only)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vidcurate-bench-"))
    try:
        folder = args.folder
        if folder is None:
            folder = tmp / "samples"
            generate(folder)
        rows = scan_folder(folder)
        skip = ("report", "export", "cut") if args.no_cut else ("report", "export")
        spec = recipe.load(args.recipe)
        specs = [s for s in spec.ops if s[0] not in skip]
        sources = len(rows)
        seconds, decodable = probed(rows)

        decode.DECODES.clear()
        cut.ENCODES.clear()
        t_fused, out_fused = fused(rows, specs, tmp / "fused", args.workers, spec.shard_size)
        dec_fused = sum(decode.DECODES.values())
        enc_fused = sum(cut.ENCODES.values())

        decode.DECODES.clear()
        cut.ENCODES.clear()
        t_steps, out_steps = steps(rows, specs, tmp / "steps", args.workers, spec.shard_size)
        dec_steps = sum(decode.DECODES.values())

        kept = [r for r in out_fused if not r.get("error") and not r.get("drop_reason")]
        print(f"inputs: {sources} files ({decodable} decodable), {seconds:.1f} s of video; recipe {args.recipe.name}; "
              f"workers {args.workers}, shards of {spec.shard_size} (the recipe's, as `vidcurate run` uses)")
        print(f"fused run : {t_fused:7.2f} s  {seconds / t_fused:7.2f} video-s per wall-s")
        print(f"step chain: {t_steps:7.2f} s  {seconds / t_steps:7.2f} video-s per wall-s")
        print(f"speed-up of fused over steps: {t_steps / t_fused:.2f}x (goal >= 3)")
        if args.workers == 0:
            per = (dec_fused / decodable, dec_steps / decodable)
            print(f"analysis decodes per decodable source: fused {per[0]:.2f} (goal 1), steps {per[1]:.2f}")
        else:
            print("decode counts are only visible with --workers 0 (they are counted per process)")
        clips = sum(1 for r in kept if r.get("source_path") and r.get("path") != r["source_path"])
        encoded = f", {enc_fused} encoded in this process" if args.workers == 0 else ""
        print(f"clips written: {clips} (kept rows {len(kept)}{encoded}); rows out: fused {len(out_fused)}, "
              f"steps {len(out_steps)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
