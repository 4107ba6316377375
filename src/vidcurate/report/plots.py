"""Histograms as inline SVG (matplotlib, Agg backend): no files, no network, one self-contained page."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

KEPT, DROPPED = "#2a9d8f", "#e76f51"


def histogram_svg(
    name: str, kept: list[float], dropped: list[float], lines: list[tuple[float, str]], unit: str = ""
) -> str:
    """Stacked histogram of kept vs dropped values with the recipe's thresholds as dashed lines."""
    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=80)
    values = kept + dropped
    bins = _bins(values)
    ax.hist([kept, dropped], bins=bins, stacked=True, histtype="stepfilled", color=[KEPT, DROPPED],
            label=["kept", "dropped"])
    for value, side in lines:
        ax.axvline(value, color="#264653", linestyle="--", linewidth=1.5)
        ax.annotate(f"keep {side} {value:g}", (value, 1), xycoords=("data", "axes fraction"),
                    fontsize=7, ha="left", va="top", color="#264653")
    ax.set_title(f"{name}" + (f" ({unit})" if unit else ""), fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.9)
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _bins(values: list[float]) -> int | list[float]:
    low, high = min(values), max(values)
    if low == high:
        return [low - 0.5, low + 0.5]
    return min(30, max(5, len(values) // 2))
