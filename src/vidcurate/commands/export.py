"""`vidcurate export MANIFEST --format opensora|parquet|webdataset|hf -o DEST`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcurate.cliutil import console, fail
from vidcurate.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the `export` command."""

    @app.command("export")
    def export_cmd(
        src: Annotated[Path, typer.Argument(help="Manifest to export (kept rows only).")],
        output: Annotated[Path, typer.Option(
            "--output", "-o", help="Destination: a .csv (opensora) or .parquet file, or a folder (webdataset, hf).")],
        format: Annotated[str | None, typer.Option(
            "--format", "-f", help="opensora, parquet, webdataset or hf (default: from the -o extension, "
            ".csv -> opensora, .parquet -> parquet).")] = None,
        shard_size: Annotated[int, typer.Option(help="Samples per WebDataset tar shard.")] = 1000,
        overwrite: Annotated[bool, typer.Option(help="Replace an existing destination.")] = False,
    ) -> None:
        """Export kept rows: Open-Sora CSV (.csv), Parquet (.parquet), WebDataset tar shards or an HF folder."""
        from vidcurate import manifest
        from vidcurate.export import export_manifest, kept

        if format is None:
            format = {".csv": "opensora", ".parquet": "parquet"}.get(output.suffix.lower())
            if format is None:
                fail(f"give --format for {output} (webdataset and hf write a folder; .csv and .parquet are inferred)")
        if output.resolve() == src.resolve() or (output.is_dir() and output.resolve() in src.resolve().parents):
            fail(f"the destination {output} is (or holds) the manifest being exported; choose another")
        if output.exists() and (output.is_file() or any(output.iterdir())) and not overwrite:
            fail(f"{output} exists; pass --overwrite to replace it")
        try:
            rows = manifest.read(src)
            options = {"shard_size": shard_size} if format == "webdataset" else {}
            out = export_manifest(src, format, output, **options)
        except ConfigError as e:
            fail(str(e))
        console.print(f"exported {len(kept(rows))} of {len(rows)} rows as {format}: [bold]{out}[/bold]")
