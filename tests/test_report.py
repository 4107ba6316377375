"""The HTML report: offline, funnel, histograms with thresholds, errors, thumbnails; renders in Chromium."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidcurate.report import stats
from vidcurate.report.html import render


def _thumb(rgb: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), rgb).save(buf, format="JPEG")
    return base64.b64encode(buf.getvalue()).decode()


def _rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = [{"id": "src", "path": "/v/src.mp4", "error": "probe: ProbeError: file is empty"}]
    for i in range(40):
        flow = float(rng.uniform(0, 4))
        row = {"id": f"s_{i}", "path": f"/clips/s_{i}.mp4", "source_id": "s", "source_path": "/v/s.mp4",
               "flow": flow, "duration": float(rng.uniform(1, 9)), "fps": 24.0, "resolution": 9216,
               "aspect_ratio": 0.5625, "thumb": _thumb((40, 160, 140) if flow >= 1 else (230, 110, 80))}
        if flow < 1:
            row["drop_reason"] = "select: flow >= 1"
        rows.append(row)
    return rows


RUN_INFO = {"name": "test", "ops": [["probe", {}], ["select", {"where": "flow >= 1 and duration <= 8"}]]}


def test_thresholds_are_read_from_select_expressions() -> None:
    lines = stats.thresholds(["flow >= 1 and 8 >= duration", "ocr < 0.02 or aes > 4"])
    assert lines == {"flow": [(1.0, "above")], "duration": [(8.0, "below")], "ocr": [(0.02, "below")],
                     "aes": [(4.0, "above")]}


def test_funnel_counts_sources_scenes_kept_and_written_clips() -> None:
    f = stats.funnel(_rows())
    assert (f.sources, f.broken, f.scenes) == (2, 1, 40)
    assert f.kept == f.clips_written == 40 - sum(f.drop_reasons.values())
    assert f.errors == {"probe": 1}


def test_report_is_offline_and_has_every_section() -> None:
    page = render(_rows(), run_info=RUN_INFO)
    assert not re.search(r'(src|href)="https?:', page) and "<script" not in page
    assert page.count("<svg") >= 2
    assert "keep above 1" in page and "keep below 8" in page
    assert "probe: ProbeError: file is empty" in page
    assert "Kept" in page and "Dropped" in page and "select: flow &gt;= 1" in page


def test_report_renders_charts_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium package is not installed (.ci/run installs it)")
    page = tmp_path / "report.html"
    page.write_text(render(_rows(), run_info=RUN_INFO))
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1300,1400",
           page.as_uri()]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    kept_bars = (np.abs(img - (42, 157, 143)).sum(axis=2) < 30).sum()
    dropped_bars = (np.abs(img - (231, 111, 81)).sum(axis=2) < 30).sum()
    threshold_line = (np.abs(img - (38, 70, 83)).sum(axis=2) < 30).sum()
    assert kept_bars > 2000 and dropped_bars > 500 and threshold_line > 100


def test_summary_statistics_hours_and_the_recipe_are_in_the_report() -> None:
    rows = _rows()
    page = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", render(rows, run_info=RUN_INFO)).split()))
    live = [r for r in rows if not r.get("error")]
    flows = np.array([r["flow"] for r in live])
    expected = [len(flows), flows.mean(), flows.std(), *np.percentile(flows, [0, 25, 50, 75, 100])]
    assert "flow px/frame " + " ".join(f"{x:.4g}" for x in expected) in page
    hours = sum(r["duration"] for r in live) / 3600
    kept = sum(r["duration"] for r in live if not r.get("drop_reason")) / 3600
    assert f"without an error: {hours:.2f} h" in page and f"kept: {kept:.2f} h" in page
    assert 'select {"where": "flow >= 1 and duration <= 8"}' in page


def test_constant_columns_are_stated_not_plotted_and_resolution_is_shown_in_classes() -> None:
    rows = _rows()
    for i, row in enumerate(rows[1:]):
        row.update(width=1280 if i % 2 else 1920, height=720 if i % 2 else 1080, codec="h264", black_ratio=0.0)
    page = render(rows, run_info=RUN_INFO)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "fps = 24 1/s (40 rows)" in text and "black_ratio = 0 (40 rows)" in text
    titles = re.findall(r"<text[^>]*>([^<]+)</text>", page)
    assert "resolution class" in titles and "1080p" in titles and "720p" in titles and "codec" in titles
    assert "resolution (px)" not in titles and "fps (1/s)" not in titles and "black_ratio" not in titles
    assert not re.search(r"1e\d", " ".join(titles)), "no offset or scientific axis labels"


def test_threshold_lines_come_only_from_selects_on_the_rows_plotted() -> None:
    info = {"ops": [["select", {"where": "duration >= 100"}], ["split", {}], ["select", {"where": "flow >= 1"}]]}
    page = render(_rows(), run_info=info)
    assert "keep above 1" in page and "keep above 100" not in page


def test_dropped_thumbnails_name_every_failing_clause_and_thumbnails_show_scores_on_hover() -> None:
    rows = _rows()
    dropped = next(r for r in rows if r.get("drop_reason"))
    dropped["duration"] = 9.5
    info = {"ops": [["split", {}], ["select", {"where": "flow >= 1 and duration <= 8"}]]}
    page = html.unescape(render(rows, run_info=info))
    assert "select: flow >= 1; duration <= 8" in page
    assert re.search(r'title="duration: 9\.5\nflow: [0-9.]+"', page)
