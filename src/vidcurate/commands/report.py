"""`vidcurate report MANIFEST -o report.html`: the HTML report of a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidcurate.cliutil import console, fail
from vidcurate.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the `report` command."""

    @app.command()
    def report(
        src: Annotated[Path, typer.Argument(help="Manifest (a run's manifest.parquet, or any manifest).")],
        output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    ) -> None:
        """Write one offline HTML page: funnel, histograms with thresholds, errors, thumbnails."""
        from vidcurate.report.html import write

        try:
            out = write(src, output)
        except ConfigError as e:
            fail(str(e))
        console.print(f"report: [bold]{out}[/bold]")
