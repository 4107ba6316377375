"""`vidcurate cut IN --save-dir DIR -o OUT`: write each live scene as a clip file (Open-Sora's cut step)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vidcurate.cliutil import Input, Output, Strict, Workers, fail, step
from vidcurate.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the `cut` command."""
    @app.command("cut")
    def cut(
        src: Input,
        output: Output,
        save_dir: Annotated[Path, typer.Option("--save-dir", help="Folder the clip files are written to.")],
        mode: Annotated[str, typer.Option(help="encode (frame-accurate, libx264) or copy (keyframe-aligned).")]
        = "encode",
        crf: Annotated[int, typer.Option(help="x264 constant rate factor, 0 (lossless) .. 51.")] = 18,
        preset: Annotated[str, typer.Option(help="x264 preset, ultrafast .. veryslow.")] = "veryfast",
        fps: Annotated[float | None, typer.Option(help="Resample clips to this frame rate.")] = None,
        shorter_side: Annotated[
            int | None, typer.Option("--shorter-side", help="Scale so the shorter side is PX (even; never up).")
        ] = None,
        keep_audio: Annotated[bool, typer.Option("--keep-audio", help="Keep the matching audio (AAC).")] = False,
        mirror: Annotated[bool, typer.Option("--mirror", help="Mirror the input folder structure.")] = False,
        whole: Annotated[bool, typer.Option("--whole", help="Cut rows without scenes as one clip each.")] = False,
        keep_dropped: Annotated[bool, typer.Option(help="Keep dropped scene rows in OUT (not cut).")] = False,
        workers: Workers = 0,
        strict: Strict = False,
    ) -> None:
        """Encode each live scene of IN to SAVE_DIR/{source_id}_{clip_index}.mp4; rerun to resume."""
        params: dict[str, Any] = {"save_dir": str(save_dir), "mode": mode, "crf": crf, "preset": preset,
                                  "keep_audio": keep_audio, "mirror": mirror, "whole": whole}
        if fps is not None:
            params["fps"] = fps
        if shorter_side is not None:
            params["shorter_side"] = shorter_side
        from vidcurate.ops.base import build

        try:
            build("cut", params)
        except ConfigError as e:
            fail(str(e))
        step([("cut", params)], Path(src), Path(output), workers=workers, strict=strict,
             keep_dropped=keep_dropped)
