"""The GCD figures, drawn once for both TensorBoard (`add_figure`) and `lit-math report --png`.

Why matplotlib in both: a raw pixel map in TensorBoard has no axes, labels or colour bar, and a 100-class,
300-validation map a pixel a cell is a strip nobody can read. Each function draws on the axes it is given, so
the callback makes one figure per card and the report puts them on one page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

STEP_NOTES = 12
"""Most step events written on the learned-GCD curve (the latest ones); more would overlap."""


CARD_FONTS = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "figure.titlesize": 9}
"""Text sizes of `card` figures (apply with matplotlib.rc_context while drawing)."""


def figure(
    width: float = 8.0, height: float = 4.5, rows: int = 1, ratios: Sequence[float] | None = None, dpi: int = 100
) -> Figure:
    """A figure of `rows` axes, without pyplot's global state (safe in a training process)."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    fig.subplots(rows, 1, height_ratios=ratios)
    return fig


def card() -> Figure:
    """A figure for a TensorBoard card, which shows an image at the card's width (about 330 pixels on a laptop
    screen): 400x256 pixels with 9-point text stays readable there; `report --png` draws larger."""
    return figure(5.0, 3.2, dpi=80)


def learned_curve(
    ax: Axes, examples: Sequence[int], learned: Sequence[int], notes: Sequence[tuple[int, int, str]], threshold: float
) -> None:
    """Number of learned GCDs against training examples, as steps; `notes` (examples, learned, '+3 +21')
    mark the step events."""
    ax.step([0, *examples], [0, *learned], where="post", color="tab:blue")
    ax.plot(examples, learned, ".", color="tab:blue")
    for x, y, text in notes[-STEP_NOTES:]:
        ax.annotate(text, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7, rotation=30)
    ax.set(xlabel="training examples", ylabel=f"learned GCDs (accuracy >= {threshold:g})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=max(max(learned, default=0) * 1.15, 1))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def class_accuracy(fig: Figure, ax: Axes, accuracy: np.ndarray, examples: Sequence[int]) -> None:
    """Accuracy of each GCD class (x) at each validation (y, labelled by examples seen); NaN is grey."""
    accuracy = np.atleast_2d(np.asarray(accuracy, dtype=np.float64))
    image = _shares(ax, accuracy, (0.5, accuracy.shape[1] + 0.5, -0.5, len(accuracy) - 0.5))
    ax.set(xlabel="GCD k", ylabel="validation")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    if len(examples) == len(accuracy):
        ticks = [int(t) for t in ax.get_yticks() if 0 <= t < len(examples)]
        ax.set_yticks(ticks, [f"{t} ({_short(examples[t])})" for t in ticks])
        ax.set_ylabel("validation (examples seen)")
    fig.colorbar(image, ax=ax, label="accuracy")


def predictions_per_class(fig: Figure, ax: Axes, counts: np.ndarray) -> None:
    """For each true GCD (y), the share of each prediction (x: 1..K, then 'larger' and 'invalid')."""
    counts = np.asarray(counts, dtype=np.float64)
    k = counts.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / counts.sum(axis=1, keepdims=True)
    image = _shares(ax, shares, (0.5, k + 2.5, 0.5, k + 0.5))
    ticks = [t for t in MaxNLocator(nbins=8, steps=[1, 2, 5, 10], integer=True).tick_values(1, k) if 1 <= t <= k - 3]
    ax.set_xticks([*ticks, k + 1.5], [*(str(int(t)) for t in ticks), "L I"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel=f"predicted GCD (the last two columns: L larger than {k}, I invalid)", ylabel="true GCD")
    fig.colorbar(image, ax=ax, label="share of the class's predictions")


def title(run: str | None, base: int | None) -> str:
    parts = [p for p in (run, None if base is None else f"base {base}") if p]
    return ", ".join(parts)


def _shares(ax: Axes, values: np.ndarray, extent: tuple[float, float, float, float]) -> Any:
    """A map of values in [0, 1], one cell each, row 0 at the bottom, NaN light grey."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="lightgrey")
    return ax.imshow(
        np.ma.masked_invalid(values), aspect="auto", interpolation="nearest", cmap=cmap, vmin=0, vmax=1,
        origin="lower", extent=extent,
    )  # fmt: skip


def _short(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1_000_000 else (f"{n / 1e3:.0f}k" if n >= 1000 else str(n))
