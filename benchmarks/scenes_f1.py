"""Scene-detection accuracy per detector: hard-cut precision/recall/F1 (±1 frame) and gradual transitions.

    python benchmarks/scenes_f1.py [--samples DIR] [--detectors content,adaptive,...] [--no-real]

Two sets: (a) the synthetic samples (`vidcurate.media.synth.generate`, generated into a temp folder unless
`--samples` names one), scored against their `cuts`/`transitions` ground truth; (b) the real files of
../shared/testdata/external listed in `REAL_CUTS` / `REAL_TRANSITIONS` of tests/test_scenes.py (checked by
eye on dumped frames), skipped when the folder is absent.

Scoring: a found cut within ±1 frame of an unmatched true cut is a hit; a found cut inside (±1) a true
gradual transition is ignored (a transition reported as a cut is neither right nor a false shot change);
every other found cut is a false positive. A true transition counts as reported when a found transition
overlaps it; found transitions overlapping none are false transitions. `s` is the CPU time of the runs.
"""

from __future__ import annotations

import argparse
import ast
import json
import tempfile
import time
from pathlib import Path

from vidcurate.exec.apply import apply
from vidcurate.ops.base import build

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "testdata" / "external"
DETECTORS = ["content", "adaptive", "transnetv2", "gradual", "content+gradual", "adaptive+gradual",
             "transnetv2+gradual"]


def real_truth() -> tuple[dict[str, list[int]], dict[str, list[list[int]]]]:
    """REAL_CUTS and REAL_TRANSITIONS from tests/test_scenes.py (read as literals, not imported)."""
    tree = ast.parse((ROOT / "tests" / "test_scenes.py").read_text())
    found: dict[str, dict] = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id in ("REAL_CUTS", "REAL_TRANSITIONS"):
            found[target.id] = ast.literal_eval(node.value)
    return found["REAL_CUTS"], found.get("REAL_TRANSITIONS", {})


def synthetic_truth(root: Path) -> dict[str, tuple[list[int], list[list[int]]]]:
    """(cuts, transitions) for every synthetic file that decodes."""
    videos = json.loads((root / "ground_truth.json").read_text())["videos"]
    return {rel: (gt.get("cuts", []), gt.get("transitions", [])) for rel, gt in sorted(videos.items())
            if not gt.get("broken")}


def detect(op, path: Path) -> tuple[list[int], list[list[int]]]:
    """Cuts (scene starts that follow the previous scene directly) and transitions found by the op."""
    row = apply(op, [{"id": path.stem, "path": str(path)}])[0]
    if row.get("error"):
        raise RuntimeError(row["error"])
    spans = row["scene_frames"]
    return [b[0] for a, b in zip(spans, spans[1:]) if a[1] == b[0]], row["transitions"]


def score(found: tuple[list[int], list[list[int]]], truth: tuple[list[int], list[list[int]]]) -> list[int]:
    """[hits, false cuts, missed cuts, transitions reported, transitions true, false transitions]."""
    cuts, trans = found
    true_cuts, true_trans = truth
    left = list(true_cuts)
    hits = false = 0
    for c in cuts:
        match = next((t for t in left if abs(t - c) <= 1), None)
        if match is not None:
            left.remove(match)
            hits += 1
        elif not any(a - 1 <= c <= b + 1 for a, b in true_trans):
            false += 1
    overlaps = [[a <= d and c <= b for c, d in trans] for a, b in true_trans]
    reported = sum(any(o) for o in overlaps)
    stray = sum(not any(a <= d and c <= b for a, b in true_trans) for c, d in trans)
    return [hits, false, len(left), reported, len(true_trans), stray]


def evaluate(detector: str, files: dict[Path, tuple]) -> tuple[list[int], float, list[str]]:
    """Summed counts over the files, CPU seconds, and the files with an error or a miss."""
    op = build("scenes", {"detector": detector})
    op.setup()
    total = [0] * 6
    notes: list[str] = []
    start = time.process_time()
    for path, truth in files.items():
        counts = score(detect(op, path), truth)
        total = [a + b for a, b in zip(total, counts)]
        if counts[1] or counts[2] or counts[3] < counts[4] or counts[5]:
            notes.append(f"{path.name}: {counts[0]} hit, {counts[1]} false, {counts[2]} missed, "
                         f"transitions {counts[3]}/{counts[4]} (+{counts[5]} false)")
    return total, time.process_time() - start, notes


def prf(counts: list[int]) -> tuple[float, float, float]:
    hits, false, missed = counts[:3]
    p = hits / (hits + false) if hits + false else 1.0
    r = hits / (hits + missed) if hits + missed else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def table(title: str, files: dict[Path, tuple], detectors: list[str], verbose: bool) -> None:
    print(f"\n{title} ({len(files)} files, {sum(len(t[0]) for t in files.values())} hard cuts, "
          f"{sum(len(t[1]) for t in files.values())} gradual transitions)")
    print("| detector | precision | recall | F1 | transitions reported | false transitions | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for detector in detectors:
        counts, secs, notes = evaluate(detector, files)
        p, r, f = prf(counts)
        print(f"| {detector} | {p:.3f} | {r:.3f} | {f:.3f} | {counts[3]}/{counts[4]} | {counts[5]} | {secs:.1f} |",
              flush=True)
        if verbose:
            for note in notes:
                print(f"    {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, help="an existing `vidcurate samples` folder")
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--no-real", action="store_true", help="skip the real-footage set")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the files with misses per detector")
    args = parser.parse_args()
    detectors = args.detectors.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.samples
        if root is None:
            from vidcurate.media.synth import generate

            root = Path(tmp)
            generate(root)
        synth = {root / rel: truth for rel, truth in synthetic_truth(root).items()}
        table("Synthetic set", synth, detectors, args.verbose)
    if args.no_real or not EXTERNAL.is_dir():
        print("\nreal set skipped" + ("" if args.no_real else f": {EXTERNAL} is absent"))
        return
    cuts, trans = real_truth()
    real = {EXTERNAL / name: (cuts[name], trans.get(name, [])) for name in sorted(cuts)}
    table("Real set (cuts checked by eye)", real, detectors, args.verbose)


if __name__ == "__main__":
    main()
