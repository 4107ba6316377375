"""Time the header probe and the exact frame count against a full decode, file by file, as ratios.

Usage: ``python benchmarks/probe.py [DIR] [--repeat N]`` (DIR defaults to ../shared/testdata/external).

Three timings per file, all in this process, each the best of ``--repeat`` runs after one warm-up read
(so the page cache is warm for all three):

- probe: ``probe(path)`` (headers + one decoded frame; counts by demuxing where the header has no count);
- count: ``probe(path, exact_frames=True)`` (headers + a demux pass over the chosen stream);
- decode: open the file and decode every frame of the chosen stream with PyAV, frame threading on (the
  fastest plain decode, no pixel conversion) -- the cost any frame-based op pays at least once.

The goals are probe/decode < 0.1 over the whole set; count/decode shows what exact counting costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import av
from timing import best_time

from vidcurate.media.probe import ProbeError, best_video_stream, probe

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "external"
VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".mov", ".m4v", ".ts", ".flv", ".wmv"}


def full_decode(path: Path) -> int:
    """Decode every frame of the main video stream; returns the number of frames."""
    with av.open(str(path)) as container:
        stream = best_video_stream(container)
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is kept")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"no such directory: {args.dir}", file=sys.stderr)
        return 2
    files = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)

    header = (
        f"{'file':40s} {'codec':10s} {'WxH':>9s} {'hdr':>5s} {'exact':>5s} {'decoded':>7s} "
        f"{'probe ms':>9s} {'count ms':>9s} {'decode ms':>9s} {'p/d':>6s} {'c/d':>6s}"
    )
    print(header)
    print("-" * len(header))
    totals = {"probe": 0.0, "count": 0.0, "decode": 0.0}
    probe_ratios, count_ratios = [], []
    for path in files:
        path.read_bytes()
        try:
            head = probe(path)
            exact = probe(path, exact_frames=True)
        except ProbeError as e:
            print(f"{path.name[:40]:40s} ERROR {e}")
            continue
        decoded = full_decode(path)
        t_probe = best_time(lambda p=path: probe(p), args.repeat)
        t_count = best_time(lambda p=path: probe(p, exact_frames=True), args.repeat)
        t_decode = best_time(lambda p=path: full_decode(p), args.repeat)
        totals["probe"] += t_probe
        totals["count"] += t_count
        totals["decode"] += t_decode
        probe_ratios.append(t_probe / t_decode)
        count_ratios.append(t_count / t_decode)
        size = f"{head['width']}x{head['height']}"
        print(
            f"{path.name[:40]:40s} {head['codec']:10s} {size:>9s} {head['num_frames']:5d} {exact['num_frames']:5d} "
            f"{decoded:7d} {t_probe * 1e3:9.1f} {t_count * 1e3:9.1f} {t_decode * 1e3:9.1f} "
            f"{t_probe / t_decode:6.3f} {t_count / t_decode:6.3f}"
        )
    if not probe_ratios:
        print("no readable video files")
        return 1
    print("-" * len(header))
    print(
        f"total over {len(probe_ratios)} files: probe {totals['probe'] * 1e3:.1f} ms, "
        f"count {totals['count'] * 1e3:.1f} ms, full decode {totals['decode'] * 1e3:.1f} ms"
    )
    print(
        f"probe/full_decode = {totals['probe'] / totals['decode']:.3f} (goal < 0.1), "
        f"per-file median {statistics.median(probe_ratios):.3f}"
    )
    print(
        f"exact_count/full_decode = {totals['count'] / totals['decode']:.3f}, "
        f"per-file median {statistics.median(count_ratios):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
