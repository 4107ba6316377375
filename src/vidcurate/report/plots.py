"""Histograms as inline SVG (matplotlib, Agg backend): no files, no network, one self-contained page."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

KEPT, DROPPED = "#2a9d8f", "#e76f51"
MAX_BARS = 12


def histogram_svg(
    name: str, kept: list[float], dropped: list[float], lines: list[tuple[float, str]], unit: str = ""
) -> str:
    """Stacked histogram of kept vs dropped values with the recipe's thresholds as dashed lines. Callers show
    a constant column as its value instead (a histogram of one value has no meaningful axis)."""
    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=80)
    values = kept + dropped
    ax.hist([kept, dropped], bins=min(30, max(5, len(values) // 2)), stacked=True, histtype="stepfilled",
            color=[KEPT, DROPPED], label=["kept", "dropped"])
    for value, side in lines:
        ax.axvline(value, color="#264653", linestyle="--", linewidth=1.5)
        ax.annotate(f"keep {side} {value:g}", (value, 1), xycoords=("data", "axes fraction"),
                    fontsize=7, ha="left", va="top", color="#264653")
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    return _finish(fig, ax, name, unit)


def bars_svg(name: str, kept: dict[str, int], dropped: dict[str, int], unit: str = "",
             order: list[str] | None = None) -> str:
    """Stacked bars of kept vs dropped counts per category (resolution classes, codecs, camera motion): the
    most frequent first, or in `order` when the categories have one."""
    totals = {k: kept.get(k, 0) + dropped.get(k, 0) for k in dict.fromkeys([*kept, *dropped])}
    labels = sorted(totals, key=lambda k: -totals[k])[:MAX_BARS]
    if order:
        labels.sort(key=lambda k: order.index(k) if k in order else len(order))
    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=80)
    low = [kept.get(k, 0) for k in labels]
    ax.bar(labels, low, color=KEPT, label="kept")
    ax.bar(labels, [dropped.get(k, 0) for k in labels], bottom=low, color=DROPPED, label="dropped")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    rotate = len(labels) > 4 or max(map(len, labels), default=0) > 8
    if rotate:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return _finish(fig, ax, name if len(totals) <= MAX_BARS else f"{name} (top {MAX_BARS})", unit,
                   bottom=0.3 if rotate else 0.12)


def _finish(fig: plt.Figure, ax: plt.Axes, name: str, unit: str, bottom: float = 0.12) -> str:
    ax.set_title(f"{name}" + (f" ({unit})" if unit else ""), fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=bottom, top=0.9)
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
