"""The benchmark page's chart: CPU per chunk and CPU under load, per provider and variant.

Two panels of grouped bars, one group per provider and one bar per variant (the raw SDK
first): the CPU microseconds one chunk costs (``overhead.py``) and the CPU seconds of the
many-streams load (``concurrency.py``), each bar labelled with its ratio to the raw SDK.
Drawn with matplotlib's non-interactive Agg backend, into a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrency import Load
    from matplotlib.axes import Axes
    from overhead import Overhead

#: (provider, variant) → (value, ratio to the raw SDK)
Bars = dict[tuple[str, str], tuple[float, float]]


def _panel(ax: Axes, bars: Bars, variants: list[str], title: str, unit: str) -> None:
    """One panel; ``variants`` in the order (and colour) of every panel."""
    providers = list(dict.fromkeys(p for p, _ in bars))
    width = 0.8 / len(variants)
    for i, variant in enumerate(variants):
        xs: list[float] = []
        heights: list[float] = []
        ratios: list[float] = []
        for j, provider in enumerate(providers):
            if (provider, variant) in bars:
                value, ratio = bars[provider, variant]
                xs.append(j + (i - (len(variants) - 1) / 2) * width)
                heights.append(value)
                ratios.append(ratio)
        if not xs:
            continue
        drawn = ax.bar(xs, heights, width, label=variant, color=f"C{i}")
        ax.bar_label(drawn, labels=[f"{r:.2f}×" for r in ratios], fontsize=7, padding=2)
    ax.set_xticks(range(len(providers)), providers)
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    ax.margins(y=0.15)


def draw(overhead: list[Overhead], loads: list[Load], path: Path, setup: str) -> None:
    """Write the chart to ``path`` (PNG); ``setup`` goes under it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    per_chunk: Bars = {
        (row.provider, row.variant): (row.cpu_us_per_chunk, row.cpu_ratio) for row in overhead
    }
    under_load: Bars = {(row.provider, row.variant): (row.cpu, row.cpu_ratio) for row in loads}
    variants = list(dict.fromkeys(v for _, v in [*per_chunk, *under_load]))
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 4.8))
    title = "CPU per chunk, one stream at a time"
    _panel(left, per_chunk, variants, title, "CPU µs per chunk")
    if under_load:
        streams, chunks = loads[0].streams, loads[0].chunks
        title = f"CPU for {streams} concurrent streams × {chunks} chunks"
        _panel(right, under_load, variants, title, "CPU seconds")
    handles, labels = left.get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8)
    figure.text(0.5, 0.01, setup, ha="center", fontsize=8, color="#555555")
    figure.tight_layout(rect=(0, 0.04, 1, 0.93))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
