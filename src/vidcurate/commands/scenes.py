"""`vidcurate scenes IN -o OUT`: scene detection as a step command (like Open-Sora's scene_detect)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcurate.cliutil import Input, Output, Strict, Workers, step


def register(app: typer.Typer) -> None:
    """Add the `scenes` command."""

    @app.command("scenes")
    def scenes(
        src: Input,
        output: Output,
        detector: Annotated[str, typer.Option(
            help="content, adaptive, transnetv2, gradual, or a combo such as content+gradual.")] = "content+gradual",
        threshold: Annotated[float | None, typer.Option(
            help="Cut threshold of the cut detector (content 22, adaptive 3.0, transnetv2 0.5).")] = None,
        min_seconds: Annotated[float, typer.Option(
            help="Scenes shorter than this go to scene_dropped.")] = 0.0,
        max_seconds: Annotated[float | None, typer.Option(
            help="Scenes longer than this are split into equal chunks.")] = None,
        start_trim: Annotated[int, typer.Option(help="Frames removed at the start of every scene.")] = 0,
        end_trim: Annotated[int, typer.Option(help="Frames removed at the end of every scene.")] = 0,
        device: Annotated[str, typer.Option(help="Torch device for transnetv2.")] = "cpu",
        workers: Workers = 0,
        strict: Strict = False,
    ) -> None:
        """Find scenes: adds scene_frames, scene_times, timestamp, num_scenes, transitions, scene_dropped."""
        params = {
            "detector": detector, "threshold": threshold, "min_seconds": min_seconds, "max_seconds": max_seconds,
            "start_trim": start_trim, "end_trim": end_trim, "device": device,
        }
        step([("scenes", params)], Path(src), Path(output), workers=workers, strict=strict)
