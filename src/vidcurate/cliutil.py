"""Helpers shared by the CLI commands: argument types, failing on config errors, the step runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from vidcurate.errors import ConfigError
from vidcurate.rows import Row

console = Console(stderr=True)

Workers = Annotated[int, typer.Option("--workers", "-w", help="Worker processes (default: CPU count).")]
Strict = Annotated[bool, typer.Option("--strict", help="Re-raise the first op exception (debugging).")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output manifest (.parquet, .csv or .jsonl).")]
Input = Annotated[Path, typer.Argument(help="Input manifest (.parquet/.csv/.jsonl) or a folder of videos.")]


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def read_input(path: Path) -> list[Row]:
    """Rows of a folder of videos, one video or a manifest (`ingest.read_input`)."""
    from vidcurate import ingest

    return list(ingest.read_input(path, console=console))


def step(
    specs: list[tuple[str, dict[str, Any]]],
    src: Path,
    dst: Path,
    *,
    workers: int | None,
    strict: bool,
    keep_dropped: bool = True,
) -> list[Row]:
    """Run ops over a manifest like an Open-Sora step command: read IN, process in shards, write OUT."""
    from vidcurate import manifest
    from vidcurate.exec import local
    from vidcurate.ops.select import check_selects
    from vidcurate.report.summary import summarize, table

    try:
        manifest._format(dst)
        if dst.resolve() == src.resolve():
            raise ConfigError(f"-o {dst} is the input manifest; write the output to another file")
        rows = read_input(src)
        if rows:
            check_selects(specs, {key for row in rows for key in row}, rows)
        workdir = dst.parent / f".{dst.name}.work"
        out = local.run(rows, specs, workdir, workers=workers or os.cpu_count() or 1, strict=strict,
                        label=specs[-1][0], overwrite=True)
    except ConfigError as e:
        fail(str(e))
    if not keep_dropped:
        out = [r for r in out if not r.get("drop_reason")]
    manifest.write(out, dst)
    shutil.rmtree(workdir, ignore_errors=True)
    console.print(table(summarize(len(rows), out), title=f"{specs[-1][0]}: {src} -> {dst}"))
    if out and all(r.get("error") for r in out):
        console.print(f"[red]error:[/red] every row has an error; see the `error` column of {dst}")
        raise typer.Exit(1)
    return out
