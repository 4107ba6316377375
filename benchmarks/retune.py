"""Cost of retuning a threshold: a full run, then reruns into the same output folder, in one process.

    python benchmarks/retune.py [FOLDER] [--recipe recipes/default.yaml] [--workers N]

FOLDER defaults to the real test videos (../shared/testdata/external next to the repo). In a temporary output
folder: run the recipe once (T1); rerun with ONE threshold of the second `select` changed by a text replace on
the recipe YAML (`flow >= 0.3` -> `flow >= 0.5`, same recipe name, so the per-stage cache in OUT/cache/ is
reused: nothing before the select should run again) (T2); rerun with no change (T3). Prints T1, T2, T3, the
ratios T2/T1 and T3/T1 (goal: small), and the kept scenes before/after the change. With `--workers 0` the
whole run is in this process, so the decode passes and clip encodes of the retune run are counted too; with
worker processes they happen elsewhere and are shown as n/a.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from vidcurate import api, manifest, recipe
from vidcurate.media import cut, decode

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "external"
OLD, NEW = "flow >= 0.3", "flow >= 0.5"


def timed_run(spec: recipe.Recipe, folder: Path, out: Path, workers: int) -> tuple[float, api.RunResult]:
    """Wall time and result of one `api.run` into `out` (reusing its cache)."""
    start = time.perf_counter()
    result = api.run(spec, folder, out, workers=workers, overwrite=False)
    return time.perf_counter() - start, result


def counts(path: Path) -> tuple[int, int, int]:
    """Rows in the manifest, scene rows, and scene rows kept (no drop_reason, no error)."""
    rows = manifest.read(path)
    scenes = [r for r in rows if r.get("source_id")]
    kept = [r for r in scenes if not r.get("drop_reason") and not r.get("error")]
    return len(rows), len(scenes), len(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "default.yaml")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    text = args.recipe.read_text(encoding="utf-8")
    if text.count(OLD) != 1:
        parser.error(f"{args.recipe}: expected exactly one {OLD!r} to change")
    base = recipe.parse(text, str(args.recipe))
    retuned = recipe.parse(text.replace(OLD, NEW), str(args.recipe))
    tmp = Path(tempfile.mkdtemp(prefix="vidcurate-retune-"))
    out = tmp / "out"
    try:
        t1, r1 = timed_run(base, args.folder, out, args.workers)
        before = counts(r1.manifest)
        decode.DECODES.clear()
        cut.ENCODES.clear()
        t2, r2 = timed_run(retuned, args.folder, out, args.workers)
        decodes, encodes = sum(decode.DECODES.values()), sum(cut.ENCODES.values())
        after = counts(r2.manifest)
        t3, _ = timed_run(retuned, args.folder, out, args.workers)

        print(f"inputs: {r1.rows_in} files in {args.folder}; recipe {base.name} ({args.recipe.name}); "
              f"workers {args.workers}; change: {OLD!r} -> {NEW!r}")
        print(f"T1 first run           : {t1:8.2f} s")
        print(f"T2 retune (1 threshold): {t2:8.2f} s  = {100 * t2 / t1:6.1f}% of T1")
        print(f"T3 rerun, no change    : {t3:8.2f} s  = {100 * t3 / t1:6.1f}% of T1")
        if args.workers == 0:
            print(f"during the retune run: {decodes} decode passes, {encodes} clip encodes (in this process)")
        else:
            print("during the retune run: decode passes n/a, clip encodes n/a (they run in worker processes; "
                  "use --workers 0)")
        print(f"manifest rows: before {before[0]}, after {after[0]}; scene rows {before[1]} / {after[1]}")
        print(f"scenes kept: before {before[2]}, after {after[2]} ({before[2] - after[2]} fewer with {NEW!r})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
