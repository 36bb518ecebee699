"""matplotlib helpers so notebooks stay short; every figure gets labelled axes."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def new_axes(xlabel: str, ylabel: str, title: str | None = None, *, figsize=(6.4, 4.0), logy=False, logx=False):
    """One figure with one labelled axes; returns (fig, ax)."""
    fig, ax = plt.subplots(figsize=figsize)
    label_axes(ax, xlabel, ylabel, title)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    return fig, ax


def label_axes(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Set both axis labels (required) and an optional title."""
    if not xlabel or not ylabel:
        raise ValueError(f"xlabel and ylabel must be non-empty, got {xlabel!r} and {ylabel!r}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over `window` points (shorter at the start), for smoothing noisy learning curves."""
    values = np.asarray(values, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    starts = np.arange(1, len(values) + 1) - counts
    return (cumulative[1:] - cumulative[starts]) / counts


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    *,
    x: Sequence[float] | None = None,
    smooth: int = 1,
    logy: bool = False,
    ax=None,
):
    """Plot several named curves on one labelled axes (optionally smoothed); returns the axes."""
    if ax is None:
        _, ax = new_axes(xlabel, ylabel, title, logy=logy)
    else:
        label_axes(ax, xlabel, ylabel, title)
        if logy:
            ax.set_yscale("log")
    for name, values in curves.items():
        values = moving_average(values, smooth) if smooth > 1 else np.asarray(values, dtype=np.float64)
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x)
        ax.plot(xs, values, label=name)
    if len(curves) > 1:
        ax.legend()
    return ax


def unlabelled_axes(fig) -> list[int]:
    """Indices of the figure's visible axes that lack an x or y label (for asserts in notebooks)."""
    return [
        i
        for i, ax in enumerate(fig.axes)
        if ax.get_visible() and ax.axison and (not ax.get_xlabel() or not ax.get_ylabel())
    ]
