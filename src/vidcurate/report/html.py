"""The HTML report: one offline file with the funnel, histograms with thresholds, errors and thumbnails."""

from __future__ import annotations

import html
import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from vidcurate import manifest
from vidcurate.columns import catalogue
from vidcurate.manifest import Row
from vidcurate.report import stats
from vidcurate.report.plots import bars_svg, histogram_svg

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
<h2>Summary</h2>
<div class="muted">video analysed in rows without an error: {{ "%.2f"|format(hours) }} h
({{ "%.0f"|format(hours * 60) }} min); kept: {{ "%.2f"|format(hours_kept) }} h ({{ "%.0f"|format(hours_kept * 60) }}
min). Statistics over the rows that have the column (kept and dropped).</div>
<table><tr><th>column</th><th>unit</th><th>count</th><th>mean</th><th>std</th><th>min</th><th>25%</th>
<th>median</th><th>75%</th><th>max</th><th>mean kept</th></tr>
{% for c in summary %}<tr><td>{{ c.column }}</td><td>{{ c.unit }}</td><td>{{ c.count }}</td>
<td>{{ "%.4g"|format(c.mean) }}</td><td>{{ "%.4g"|format(c.std) }}</td>{% for q in c.quartiles %}
<td>{{ "%.4g"|format(q) }}</td>{% endfor %}<td>{{ "%.4g"|format(c.kept_mean) }}</td></tr>{% endfor %}</table>
{% if ops %}<h2>Recipe</h2><table><tr><th>op</th><th>parameters</th></tr>
{% for name, params in ops %}<tr><td>{{ name }}</td><td><code>{{ params }}</code></td></tr>{% endfor %}</table>
{% endif %}
<h2>Distributions</h2>
<div class="muted">green: kept, red: dropped; dashed lines: the recipe's select thresholds</div>
<div class="charts">{% for svg in charts %}<div class="chart">{{ svg }}</div>{% endfor %}</div>
{% if constants %}<p class="muted">The same value in every row that has it:
{% for col, value, n, unit in constants %}<b>{{ col }}</b> = {{ value }}{% if unit %} {{ unit }}{% endif %}
({{ n }} rows){% if not loop.last %}; {% endif %}{% endfor %}.</p>{% endif %}
<h2>Errors ({{ errors|length }})</h2>
{% if error_ops %}<table><tr><th>op</th><th>rows</th></tr>
{% for op, n in error_ops %}<tr><td>{{ op }}</td><td>{{ n }}</td></tr>{% endfor %}</table>{% endif %}
{% if errors %}<table><tr><th>id</th><th>path</th><th>error</th></tr>
{% for e in errors %}<tr><td>{{ e.id }}</td><td>{{ e.path }}</td><td>{{ e.error }}</td></tr>{% endfor %}</table>
{% else %}<p>No errors.</p>{% endif %}
{% if timings %}<h2>Where the time went</h2>
<div class="muted">this invocation: {% for name, sec in phases %}{{ name }} {{ "%.2f"|format(sec) }} s
{%- if not loop.last %} &middot; {% endif %}{% endfor %}. Stage wall and CPU are summed over the processes
that ran it (a shard's stages run one after another in one process; shards run in parallel); work reused from
an earlier run costs nothing here.</div>
<table><tr><th>stage</th><th>kind</th><th>tasks</th><th>rows in &rarr; out</th><th>wall s</th><th>CPU s</th>
<th>setup s</th><th>frames decoded</th><th>model batches / items</th></tr>
{% for t in timings %}<tr><td>{{ t.stage }}</td><td>{{ t.kind }}</td><td>{{ t.tasks }}</td>
<td>{{ t.rows_in }} &rarr; {{ t.rows_out }}</td><td>{{ "%.2f"|format(t.wall_s) }}</td>
<td>{{ "%.2f"|format(t.cpu_s) }}</td>
<td>{{ "%.2f"|format(t.setup_s) }}</td><td>{{ t.frames }}</td><td>{{ t.model_batches }} / {{ t.model_items }}</td></tr>
{% endfor %}</table>{% endif %}
{% for title, items, css in galleries %}<h2>{{ title }}</h2><div class="thumbs">
{% for t in items %}<div class="thumb {{ css }}" title="{{ t.scores }}"><img alt="{{ t.id }}"
src="data:image/jpeg;base64,{{ t.thumb }}">
{{ t.id }}{% if t.note %}<br><i>{{ t.note }}</i>{% endif %}</div>{% endfor %}
</div>{% endfor %}
</body></html>
""",
    autoescape=True,
)


def render(rows: Iterable[Row], *, title: str = "vidcurate report", run_info: dict[str, Any] | None = None,
           max_thumbs: int = 60, max_errors: int = 500) -> str:
    """The report page as a string. `rows` is read once and not kept (use `iter_rows` for a manifest file):
    only counters, the numeric values of plotted columns, the first errors and the first thumbnails stay."""
    run_info = run_info or {}
    lines = stats.thresholds(_row_level_wheres(run_info.get("ops", [])))
    seen = _Seen(max_thumbs, max_errors, _row_level_wheres(run_info.get("ops", [])))
    f = stats.funnel(seen.watch(rows))
    charts, constants = [], []
    known = catalogue()
    markup = jinja2.utils.markupsafe.Markup
    for col, (kept_c, drop_c) in seen.categories.items():
        if kept_c or drop_c:
            order = _CLASS_ORDER if col == "resolution class" else None
            charts.append(markup(bars_svg(col, dict(kept_c), dict(drop_c), order=order)))
    for col in stats.order_columns(seen.values):
        kept_v, drop_v = (list(v) for v in seen.values[col])
        unit = known[col].unit if col in known else ""
        if col == "resolution" or not (kept_v or drop_v):
            continue
        if min(kept_v + drop_v) == max(kept_v + drop_v):
            constants.append((col, f"{kept_v[0] if kept_v else drop_v[0]:g}", len(kept_v) + len(drop_v), unit))
            continue
        charts.append(markup(histogram_svg(col, kept_v, drop_v, lines.get(col, []), unit)))
    stages = [("sources", f.sources), ("broken sources", f.broken), ("scenes", f.scenes), ("kept", f.kept),
              ("clips written", f.clips_written)]
    summary = [_summary(col, seen.values[col], known[col].unit if col in known else "")
               for col in stats.order_columns(seen.values)]
    galleries = [("Kept", seen.thumbs["kept"], "kept"), ("Dropped", seen.thumbs["dropped"], "dropped")]
    return TEMPLATE.render(
        title=title,
        rows_total=seen.total,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        recipe=run_info.get("name"),
        funnel=stages,
        reasons=f.drop_reasons.most_common(),
        charts=charts,
        constants=constants,
        error_ops=f.errors.most_common(),
        errors=seen.errors,
        galleries=[g for g in galleries if g[1]],
        timings=run_info.get("timings", {}).get("stages", []),
        summary=summary,
        hours=(seen.seconds[0] + seen.seconds[1]) / 3600, hours_kept=seen.seconds[0] / 3600,
        ops=[(name, json.dumps(params, sort_keys=True)) for name, params in run_info.get("ops", [])],
        phases=[(k, v) for k, v in run_info.get("timings", {}).get("phases", {}).items() if k != "total"],
    )


def _summary(col: str, values: tuple[array, array], unit: str) -> dict[str, Any]:
    """Data-Juicer-analyser style statistics of one column over the rows that have it (kept and dropped)."""
    import numpy as np

    both = np.concatenate([np.frombuffer(v, dtype=np.float64) for v in values])
    kept = np.frombuffer(values[0], dtype=np.float64)
    q = np.percentile(both, [0, 25, 50, 75, 100]) if len(both) else [math.nan] * 5
    return {"column": col, "unit": unit, "count": len(both), "mean": float(both.mean()) if len(both) else math.nan,
            "std": float(both.std()) if len(both) else math.nan, "quartiles": [float(x) for x in q],
            "kept_mean": float(kept.mean()) if len(kept) else math.nan}


RESOLUTION_CLASSES = (2160, 1440, 1080, 720, 540, 480, 360, 240)
_CLASS_ORDER = ["<240p", *(f"{c}p" for c in reversed(RESOLUTION_CLASSES))]
"""Short sides that name a resolution class ('720p' holds short sides from 720 up to the next class)."""
CATEGORIES = ("resolution class", "codec", "cmotion")


def resolution_class(width: int, height: int) -> str:
    """'1080p', '720p', ... by the short side (the largest class not above it), '<240p' below them all."""
    short = min(width, height)
    return next((f"{c}p" for c in RESOLUTION_CLASSES if short >= c), "<240p")


HOVER = ("duration", "flow", "cmotion", "ocr", "aes", "match", "nsfw", "face_ratio", "sharpness", "brightness",
         "black_ratio", "frozen_ratio")
"""Columns shown when hovering a thumbnail."""


def _scores(row: Row) -> str:
    """`name: value` of the row's main scores, one per line (a thumbnail's tooltip)."""
    parts = []
    for col in HOVER:
        value = row.get(col)
        if isinstance(value, float):
            parts.append(f"{col}: {value:.4g}")
        elif value is not None:
            parts.append(f"{col}: {value}")
    return "\n".join(parts)


def _row_level_wheres(ops: list[Any]) -> list[str]:
    """The `where` of the selects whose threshold lines belong on the charts: with a `split` in the recipe the
    charts show scene rows, so only the selects after it; without one, all of them."""
    names = [name for name, _ in ops]
    start = names.index("split") + 1 if "split" in names else 0
    return [params.get("where", "") for name, params in ops[start:] if name == "select"]


class _Seen:
    """What the report keeps of the rows streaming past: plotted values (kept, dropped), errors, thumbnails."""

    def __init__(self, max_thumbs: int, max_errors: int, wheres: list[str] | None = None) -> None:
        from vidcurate.expr import Expr

        self.max_thumbs, self.max_errors = max_thumbs, max_errors
        self.selects = []
        for where in wheres or []:
            try:
                self.selects.append(Expr(where))
            except ValueError:
                continue
        self.values: dict[str, tuple[array, array]] = {}
        self.errors: list[dict[str, str]] = []
        self.thumbs: dict[str, list[dict[str, str]]] = {"kept": [], "dropped": []}
        self.total = 0
        self.categories: dict[str, tuple[Counter[str], Counter[str]]] = {c: (Counter(), Counter())
                                                                          for c in CATEGORIES}
        self.seconds = [0.0, 0.0]
        """Video seconds of the kept and of the dropped rows (`duration`)."""

    def watch(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            self.total += 1
            self.see(row)
            yield row

    def see(self, row: Row) -> None:
        if row.get("error"):
            if len(self.errors) < self.max_errors:
                self.errors.append({"id": row.get("id", ""), "path": row.get("path", ""), "error": row["error"]})
            return
        side = 1 if row.get("drop_reason") else 0
        if stats.plottable("duration", row.get("duration")):
            self.seconds[side] += float(row["duration"])
        if isinstance(row.get("width"), int) and isinstance(row.get("height"), int):
            self.categories["resolution class"][side][resolution_class(row["width"], row["height"])] += 1
        for col in ("codec", "cmotion"):
            if isinstance(row.get(col), str):
                self.categories[col][side][row[col]] += 1
        for key, value in row.items():
            if stats.plottable(key, value):
                self.values.setdefault(key, (array("d"), array("d")))[side].append(float(value))
        gallery = self.thumbs["dropped" if side else "kept"]
        if row.get("thumb") and len(gallery) < self.max_thumbs:
            gallery.append({"id": html.unescape(str(row.get("id", ""))), "thumb": row["thumb"],
                            "note": self.reasons(row) if side else "", "scores": _scores(row)})

    def reasons(self, row: Row) -> str:
        """Every clause the row fails, of every select on these rows (the drop reason names only the first)."""
        reason = str(row.get("drop_reason", ""))
        if not reason.startswith("select:"):
            return reason
        failed = [text for expr in self.selects for text in expr.failures(row)]
        return "select: " + "; ".join(failed) if failed else reason


def write(manifest_path: str | Path, out: str | Path) -> Path:
    """Render the report for a manifest; the run's recipe (run.json beside it) supplies the thresholds."""
    manifest_path, out = Path(manifest_path), Path(out)
    info_path = manifest_path.parent / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    rows = manifest.iter_rows(manifest_path)
    page = render(rows, title=f"vidcurate report: {manifest_path.parent.name}", run_info=info)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
