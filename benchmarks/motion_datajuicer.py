"""`motion` method `datajuicer` against Data-Juicer's own VideoMotionScoreFilter, plus per-pair flow costs.

Prints, per file, Data-Juicer's score and ours, their relative difference and the time ratio ours/theirs
(both measured here, in this process), then the cost of one flow pair for each method at its analysis size.
Data-Juicer lives in its own virtual environment (it pins a different dependency set); run e.g.

    python3 -m venv /tmp/djvenv && /tmp/djvenv/bin/pip install torch==2.13.0 && \\
        /tmp/djvenv/bin/pip install py-data-juicer aiohttp av opencv-python-headless
    PYTHONPATH=src /tmp/djvenv/bin/python benchmarks/motion_datajuicer.py [--size 256] [--relative] [FILES...]

Without Data-Juicer importable the comparison is skipped with a message; the pair costs and the cost of each
method over a plain decode pass (same process, same file) always print.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidcurate.exec.scan import scan
from vidcurate.media.probe import probe
from vidcurate.ops.motion import FARNEBACK, Motion

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "external"
DEFAULT_FILES = [*(f"datajuicer_video{i}.mp4" for i in range(1, 6)), "moviepy_fire2.mp4", "torchcodec_nasa_13013.mp4",
                 "dvrscan_traffic_camera.mp4", "pyscenedetect_issue-134-rotate.mp4", "katna_pos_video.mp4"]


def ours(path: Path, params: dict[str, Any]) -> tuple[float | None, float]:
    """Our `datajuicer` score of a whole file and the seconds it took (probe included)."""
    op = Motion(method="datajuicer", **params)
    op.setup()
    start = time.perf_counter()
    row = {"path": str(path), "id": path.stem, **probe(path)}
    out = scan(row, [op])
    if out.get("error"):
        raise RuntimeError(out["error"])
    return out.get("flow"), time.perf_counter() - start


def theirs(path: Path, params: dict[str, Any]) -> tuple[float, float]:
    """Data-Juicer's score of a file and the seconds it took."""
    from data_juicer.ops.filter.video_motion_score_filter import VideoMotionScoreFilter
    from data_juicer.utils.constant import Fields, StatsKeys

    op = VideoMotionScoreFilter(**params)
    sample = {"videos": [str(path)], Fields.stats: {}}
    start = time.perf_counter()
    op.compute_stats_single(sample)
    return float(sample[Fields.stats][StatsKeys.video_motion_score][0]), time.perf_counter() - start


def pair_costs(path: Path, repeats: int = 20) -> None:
    """Milliseconds per flow pair: DIS ultrafast and Farneback at 256 px short side, Farneback at source size."""
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="gray") for _, f in zip(range(2), container.decode(video=0))]
    height, width = frames[0].shape
    small = [np.ascontiguousarray(cv2.resize(f, (round(width * 256 / height), 256), interpolation=cv2.INTER_AREA))
             for f in frames]
    full = [np.ascontiguousarray(f) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    cases = {
        f"dis ultrafast {small[0].shape[1]}x{small[0].shape[0]}": lambda: dis.calc(small[0], small[1], None),
        f"farneback {small[0].shape[1]}x{small[0].shape[0]}":
            lambda: cv2.calcOpticalFlowFarneback(small[0], small[1], None, **FARNEBACK),
        f"farneback (datajuicer default) {width}x{height}":
            lambda: cv2.calcOpticalFlowFarneback(full[0], full[1], None, **FARNEBACK),
    }
    print(f"\nper-pair flow cost on {path.name} (cv2 threads: {cv2.getNumThreads()})")
    for label, fn in cases.items():
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        print(f"  {label:40s} {1000 * (time.perf_counter() - start) / repeats:8.2f} ms")


def overhead(path: Path) -> None:
    """Seconds for a decode pass alone (sampling the frames the scorers want), and with motion/cmotion fed."""
    from vidcurate.media.decode import decode_pass
    from vidcurate.ops.cmotion import CameraMotion

    row = {"path": str(path), "id": path.stem, **probe(path)}
    start = time.perf_counter()
    decode_pass(path, [Motion().frame_spec()], lambda *a: None)
    base = time.perf_counter() - start
    print(f"\ndecode pass alone on {path.name} ({row.get('width')}x{row.get('height')}, {row.get('duration'):.1f} s): "
          f"{base:.2f} s")
    for label, ops in [("motion dis", [Motion()]), ("motion farneback", [Motion(method="farneback")]),
                       ("motion dis + cmotion", [Motion(), CameraMotion()]),
                       ("motion datajuicer", [Motion(method="datajuicer")])]:
        start = time.perf_counter()
        out = scan(dict(row), list(ops))
        took = time.perf_counter() - start
        print(f"  {label:24s} {took:6.2f} s  x{took / base:5.2f} of decode   flow={out.get('flow')} "
              f"cmotion={out.get('cmotion', '-')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--size", type=int, default=None, help="Data-Juicer `size` (short side)")
    parser.add_argument("--max-size", type=int, default=None)
    parser.add_argument("--relative", action="store_true")
    args = parser.parse_args()
    files = args.files or [EXTERNAL / name for name in DEFAULT_FILES]
    files = [f for f in files if f.is_file()]
    if not files:
        print(f"no input files (looked in {EXTERNAL}); nothing to compare")
        return
    params: dict[str, Any] = {"relative": args.relative}
    if args.size is not None:
        params["size"] = args.size
    if args.max_size is not None:
        params["max_size"] = args.max_size
    try:
        import data_juicer  # noqa: F401
    except ImportError:
        print("data_juicer is not importable here: comparison skipped (see this script's docstring)")
    else:
        print(f"{'file':40s} {'data-juicer':>12s} {'vidcurate':>12s} {'rel diff':>9s} {'t DJ s':>7s} {'t ours s':>8s} "
              f"{'ours/DJ':>7s}")
        diffs, ratios = [], []
        for path in files:
            dj_score, dj_s = theirs(path, params)
            our_score, our_s = ours(path, params)
            diff = abs((our_score if our_score is not None else -1) - dj_score) / max(abs(dj_score), 1e-9)
            diffs.append(diff)
            ratios.append(our_s / dj_s)
            print(f"{path.name:40s} {dj_score:12.5f} {our_score!s:>12s} {diff:9.2%} {dj_s:7.2f} {our_s:8.2f} "
                  f"{our_s / dj_s:7.2f}")
        print(f"max relative difference {max(diffs):.2%}; time ours/DJ median {float(np.median(ratios)):.2f}")
    pair_costs(files[0])
    overhead(EXTERNAL / "moviepy_big_buck_bunny_0_30.webm" if (EXTERNAL / "moviepy_big_buck_bunny_0_30.webm").is_file()
             else files[0])


if __name__ == "__main__":
    main()
