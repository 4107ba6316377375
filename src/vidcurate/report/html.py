"""The HTML report: one offline file with the funnel, histograms with thresholds, errors and thumbnails."""

from __future__ import annotations

import html
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from vidcurate import manifest
from vidcurate.columns import catalogue
from vidcurate.manifest import Row
from vidcurate.report import stats
from vidcurate.report.plots import histogram_svg

TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{margin:0 0 4px}.muted{color:#666;font-size:13px}
.funnel{display:flex;gap:10px;margin:16px 0}.stage{background:#e9f5f3;border-radius:8px;padding:10px 16px}
.stage b{display:block;font-size:26px}.charts{display:flex;flex-wrap:wrap;gap:8px}
.chart{border:1px solid #ddd;border-radius:6px;padding:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
.thumbs{display:flex;flex-wrap:wrap;gap:8px}.thumb{width:180px;font-size:11px;word-break:break-all}
.thumb img{max-width:180px;max-height:110px;display:block;border-radius:4px}
.kept{border-top:4px solid #2a9d8f}.dropped{border-top:4px solid #e76f51}
</style></head><body>
<h1>{{ title }}</h1>
<div class="muted">{{ rows_total }} rows &middot; generated {{ generated }}
{% if recipe %} &middot; recipe {{ recipe }}{% endif %}</div>
<h2>Funnel</h2>
<div class="funnel">
{% for label, value in funnel %}<div class="stage"><b>{{ value }}</b>{{ label }}</div>{% endfor %}
</div>
{% if reasons %}<h2>Drop reasons</h2><table><tr><th>reason</th><th>rows</th></tr>
{% for reason, n in reasons %}<tr><td>{{ reason }}</td><td>{{ n }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Distributions</h2>
<div class="muted">green: kept, red: dropped; dashed lines: the recipe's select thresholds</div>
<div class="charts">{% for svg in charts %}<div class="chart">{{ svg }}</div>{% endfor %}</div>
<h2>Errors ({{ errors|length }})</h2>
{% if error_ops %}<table><tr><th>op</th><th>rows</th></tr>
{% for op, n in error_ops %}<tr><td>{{ op }}</td><td>{{ n }}</td></tr>{% endfor %}</table>{% endif %}
{% if errors %}<table><tr><th>id</th><th>path</th><th>error</th></tr>
{% for e in errors %}<tr><td>{{ e.id }}</td><td>{{ e.path }}</td><td>{{ e.error }}</td></tr>{% endfor %}</table>
{% else %}<p>No errors.</p>{% endif %}
{% for title, items, css in galleries %}<h2>{{ title }}</h2><div class="thumbs">
{% for t in items %}<div class="thumb {{ css }}"><img alt="{{ t.id }}" src="data:image/jpeg;base64,{{ t.thumb }}">
{{ t.id }}{% if t.note %}<br><i>{{ t.note }}</i>{% endif %}</div>{% endfor %}
</div>{% endfor %}
</body></html>
""",
    autoescape=True,
)


def render(rows: list[Row], *, title: str = "vidcurate report", run_info: dict[str, Any] | None = None,
           max_thumbs: int = 60, max_errors: int = 500) -> str:
    """The report page as a string."""
    run_info = run_info or {}
    wheres = [p.get("where", "") for name, p in run_info.get("ops", []) if name == "select"]
    lines = stats.thresholds(wheres)
    f = stats.funnel(rows)
    live = [r for r in rows if not r.get("error") and not r.get("drop_reason")]
    dropped = [r for r in rows if not r.get("error") and r.get("drop_reason")]
    charts = []
    known = catalogue()
    for col in stats.numeric_columns(rows):
        kept_v, drop_v = _values(live, col), _values(dropped, col)
        if kept_v or drop_v:
            unit = known[col].unit if col in known else ""
            charts.append(jinja2.utils.markupsafe.Markup(histogram_svg(col, kept_v, drop_v, lines.get(col, []), unit)))
    stages = [("sources", f.sources), ("broken sources", f.broken), ("scenes", f.scenes), ("kept", f.kept),
              ("clips written", f.clips_written)]
    errors = [{"id": r.get("id", ""), "path": r.get("path", ""), "error": r["error"]}
              for r in rows if r.get("error")][:max_errors]
    galleries = [
        ("Kept", _thumbs(live, max_thumbs, lambda r: ""), "kept"),
        ("Dropped", _thumbs(dropped, max_thumbs, lambda r: str(r.get("drop_reason", ""))), "dropped"),
    ]
    return TEMPLATE.render(
        title=title,
        rows_total=len(rows),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        recipe=run_info.get("name"),
        funnel=stages,
        reasons=f.drop_reasons.most_common(),
        charts=charts,
        error_ops=f.errors.most_common(),
        errors=errors,
        galleries=[g for g in galleries if g[1]],
    )


def _values(rows: list[Row], col: str) -> list[float]:
    out = []
    for row in rows:
        v = row.get(col)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _thumbs(rows: list[Row], limit: int, note: Any) -> list[dict[str, str]]:
    picked = [r for r in rows if r.get("thumb")][:limit]
    return [{"id": html.unescape(str(r.get("id", ""))), "thumb": r["thumb"], "note": note(r)} for r in picked]


def write(manifest_path: str | Path, out: str | Path) -> Path:
    """Render the report for a manifest; the run's recipe (run.json beside it) supplies the thresholds."""
    manifest_path, out = Path(manifest_path), Path(out)
    info_path = manifest_path.parent / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    page = render(manifest.read(manifest_path), title=f"vidcurate report: {manifest_path.parent.name}",
                  run_info=info)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
