"""`report`: write the HTML report of the run (funnel, histograms with thresholds, errors, thumbnails)."""

from __future__ import annotations

import json
from pathlib import Path

from vidcurate.manifest import iter_rows
from vidcurate.ops.base import Resources, Sink, register


@register
class Report(Sink):
    """Render `report.html` (or `path`) in the output folder once the manifest is complete."""

    name = "report"
    run_paths = ("path",)
    resources = Resources(cpus=0.1, memory_mb=256)

    path: str = "report.html"
    max_thumbs: int = 60

    def validate(self) -> None:
        if not self.path.endswith(".html"):
            raise self.bad("path", "the report is an .html file")
        if self.max_thumbs < 0:
            raise self.bad("max_thumbs", "must be >= 0")

    def write(self, manifest_path: Path, out_dir: Path) -> Path:
        from vidcurate.report.html import render  # matplotlib: imported where a report is drawn, not in workers

        info_path = out_dir / "run.json"
        info = json.loads(info_path.read_text()) if info_path.exists() else {}
        out = out_dir / self.path
        title = f"vidcurate report: {info.get('name', out_dir.name)}"
        page = render(iter_rows(manifest_path), title=title, run_info=info, max_thumbs=self.max_thumbs)
        out.write_text(page, encoding="utf-8")
        return out
