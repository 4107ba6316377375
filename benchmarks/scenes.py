"""Scene detection speed, as ratios measured in one process on the same files.

    python benchmarks/scenes.py [FILE ...] [--repeat N] [--transnet-frames N]

For each file (default: the 720p-and-larger files of ../shared/testdata/external): plain PyAV decode of
every frame (no conversion), our `scenes` op with the content detector and with the default
content+gradual, and PySceneDetect's own CLI (`scenedetect -i FILE detect-content`, run as a subprocess
from this interpreter's bin folder). Prints ours / plain decode (goal <= 1.2 for content) and ours / the
scenedetect CLI (goal < 1.0), then TransNetV2's CPU throughput in frames per second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import av
from timing import best_time

from vidcurate.exec.apply import apply
from vidcurate.ops.base import build

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "external"
DEFAULT_FILES = [
    "pyscenedetect_testvideo.mp4",
    "dvrscan_traffic_camera.mp4",
    "moviepy_big_buck_bunny_0_30.webm",
    "moviepy_smpte-2997.mp4",
    "pyscenedetect_goldeneye-vfr-drop3.mp4",
]


def plain_decode(path: Path) -> int:
    """Decode every frame with PyAV's threaded decoder, converting nothing; returns the frame count."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def ours(path: Path, detector: str) -> dict:
    op = build("scenes", {"detector": detector})
    op.setup()
    return apply(op, [{"id": path.stem, "path": str(path)}])[0]


def scenedetect_cli(path: Path) -> None:
    exe = Path(sys.executable).with_name("scenedetect")
    subprocess.run([str(exe), "-q", "-i", str(path), "detect-content"], check=True, capture_output=True)


def transnet_fps(path: Path, frames: int) -> float:
    """TransNetV2 inference speed on CPU over the first `frames` frames (48x27 frames from our pass)."""
    from vidcurate.detect.transnetv2 import TransNetCuts
    from vidcurate.media.decode import decode_pass
    from vidcurate.ops.base import FrameSpec

    det = TransNetCuts()
    decode_pass(path, [FrameSpec(fmt="rgb24", width=48, height=27)],
                lambda i, t, a: det.feed(i, a[0]), end_frame=frames)
    start = time.perf_counter()
    det.finish(len(det.frames))
    return len(det.frames) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--transnet-frames", type=int, default=200)
    args = parser.parse_args()
    files = args.files or [EXTERNAL / f for f in DEFAULT_FILES if (EXTERNAL / f).exists()]
    if not files:
        sys.exit("no files given and ../shared/testdata/external is absent")
    ours(files[0], "content")
    print(f"{'file':40s} {'frames':>6s} {'decode s':>8s} {'content/dec':>11s} {'c+grad/dec':>10s} "
          f"{'content/cli':>11s} {'c+grad/cli':>10s}")
    totals = [0.0] * 4
    for path in files:
        frames = plain_decode(path)
        dec = best_time(lambda p=path: plain_decode(p), args.repeat)
        content = best_time(lambda p=path: ours(p, "content"), args.repeat)
        combo = best_time(lambda p=path: ours(p, "content+gradual"), args.repeat)
        cli = best_time(lambda p=path: scenedetect_cli(p), args.repeat)
        for i, v in enumerate((dec, content, combo, cli)):
            totals[i] += v
        print(f"{path.name[:40]:40s} {frames:6d} {dec:8.2f} {content / dec:11.2f} {combo / dec:10.2f} "
              f"{content / cli:11.2f} {combo / cli:10.2f}", flush=True)
    dec, content, combo, cli = totals
    print(f"{'TOTAL':40s} {'':6s} {dec:8.2f} {content / dec:11.2f} {combo / dec:10.2f} "
          f"{content / cli:11.2f} {combo / cli:10.2f}")
    fps = transnet_fps(files[0], args.transnet_frames)
    print(f"TransNetV2 on CPU: {fps:.1f} frames/s (model inference on 48x27 frames, decode excluded)")


if __name__ == "__main__":
    main()
