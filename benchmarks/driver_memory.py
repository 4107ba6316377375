"""Peak memory of the driver process of a run, as the number of rows grows.

    python benchmarks/driver_memory.py [--rows 2000 20000] [--workers 2]

For each N: write a Parquet manifest of N source rows that need no decoding (a fake path, probe columns, three
scenes with varied `flow` scores each), then, in a FRESH Python process per N (no shared heap), run a recipe
of row ops only (select on duration, split, select on flow, report; shard_size 8) over it with `api.run`.
The report sink runs in the driver, so it is part of what is measured. At the end the child reads its own
peak RSS (VmHWM in /proc/self/status) and reports it with its wall time. Prints, per N, the driver's peak RSS,
the wall time and the output manifest's size, the baseline of a child that only imports what a run loads, and the
ratio RSS(largest N)/RSS(smallest N) (goal: <= 1.2, i.e. driver memory does not grow with the row count).
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECIPE = """\
name: driver-memory
shard_size: 8
ops:
  - select: {where: "duration >= 1"}
  - split: {}
  - select: {where: "flow >= 0.5"}
  - report: {}
"""


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def write_rows(n: int, path: Path) -> Path:
    """A Parquet manifest of n decode-free source rows with three scored scenes each."""
    from vidcurate import manifest

    rng = random.Random(n)
    rows = [{
        "id": f"fake-{i:06d}", "path": f"/nonexistent/fake_{i:06d}.mp4", "relpath": f"fake_{i:06d}.mp4",
        "num_frames": 90, "fps": 30.0, "width": 640, "height": 360, "duration": 3.0,
        "scene_frames": [[0, 30], [30, 60], [60, 90]],
        "scene_scores": [{"flow": round(rng.random(), 4)} for _ in range(3)],
    } for i in range(n)]
    return manifest.write(rows, path)


def child(src: Path, out: Path, workers: int) -> None:
    """Run the recipe over `src` into `out` in this process; print peak RSS and wall time as JSON."""
    start = time.perf_counter()
    if src.name != "-":
        from vidcurate import api, recipe

        api.run(recipe.parse(RECIPE), src, out, workers=workers)
    else:
        # baseline: only the modules a run loads (the fixed cost every N pays)
        for name in ("vidcurate.api", "vidcurate.ops.report", "vidcurate.report.html", "vidcurate.report.plots"):
            importlib.import_module(name)
    print(json.dumps({"rss_mb": peak_rss_mb(), "wall_s": time.perf_counter() - start}))


def measure(src: str, out: Path, workers: int) -> dict[str, float]:
    """Run `child` in a fresh interpreter (argv list, no shell); its JSON result."""
    cmd = [sys.executable, __file__, "--child", src, str(out), "--workers", str(workers)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.workers)
        return

    import pyarrow.parquet as pq

    tmp = Path(tempfile.mkdtemp(prefix="vidcurate-drivermem-"))
    try:
        base = measure("-", tmp / "none", args.workers)
        print(f"workers {args.workers}; recipe: select(duration) -> split -> select(flow >= 0.5) -> report, "
              f"shards of 8; each N in a fresh process")
        print(f"baseline (imports only: api, report, plots): peak RSS {base['rss_mb']:7.1f} MB")
        results: dict[int, dict[str, float]] = {}
        for n in args.rows:
            src = write_rows(n, tmp / f"in_{n}.parquet")
            out = tmp / f"out_{n}"
            res = results[n] = measure(str(src), out, args.workers)
            final = out / "manifest.parquet"
            size = final.stat().st_size / 2**20
            rows_out = pq.ParquetFile(final).metadata.num_rows
            print(f"N={n:6d}: driver peak RSS {res['rss_mb']:7.1f} MB (+{res['rss_mb'] - base['rss_mb']:6.1f} over "
                  f"baseline), wall {res['wall_s']:6.2f} s; input {src.stat().st_size / 2**20:.2f} MB, "
                  f"output manifest {size:.2f} MB ({rows_out} rows)")
        lo, hi = min(results), max(results)
        if lo != hi:
            ratio = results[hi]["rss_mb"] / results[lo]["rss_mb"]
            print(f"RSS({hi})/RSS({lo}) = {ratio:.2f} (goal <= 1.2); wall time ratio "
                  f"{results[hi]['wall_s'] / results[lo]['wall_s']:.2f} for {hi / lo:.0f}x the rows")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
