"""The closing console summary of a run: the funnel, drops by reason, errors by op."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from vidcurate.manifest import Row
from vidcurate.report.stats import Funnel, funnel


def summarize(rows_in: int, rows: list[Row]) -> tuple[int, int, Funnel]:
    """Rows in, rows out and the funnel of the output rows."""
    return rows_in, len(rows), funnel(rows)


SUMMARY_COLUMNS = ("id", "source_id", "path", "source_path", "error", "drop_reason")


def summarize_manifest(rows_in: int, path: Path) -> tuple[int, int, Funnel]:
    """As `summarize`, reading only the columns the funnel needs from a Parquet manifest (bounded memory)."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    table = pq.read_table(path, columns=[c for c in SUMMARY_COLUMNS if c in names])
    rows = [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
    return rows_in, len(rows), funnel(rows)


def table(summary: tuple[int, int, Funnel], title: str = "summary") -> Table:
    """A rich table: rows in/out, sources -> scenes -> kept -> clips written, drop reasons, errors per op."""
    rows_in, rows_out, f = summary
    out = Table(title=title, show_header=True, header_style="bold")
    out.add_column("what")
    out.add_column("rows", justify="right")
    out.add_row("rows in", str(rows_in))
    out.add_row("rows out", str(rows_out))
    out.add_row("sources", str(f.sources))
    if f.scenes:
        out.add_row("scenes", str(f.scenes))
    out.add_row("[green]kept", f"[green]{f.kept}")
    if f.clips_written:
        out.add_row("[green]clips written", f"[green]{f.clips_written}")
    for reason, n in f.drop_reasons.most_common():
        out.add_row(f"[yellow]dropped: {reason}", f"[yellow]{n}")
    for op, n in f.errors.most_common():
        out.add_row(f"[red]errors in {op}", f"[red]{n}")
    return out
