"""The report's pictures, drawn with matplotlib's Agg backend (no display needed) into PNG bytes that the HTML
carries inline."""
import io
import math
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # before pyplot: a report is written on machines without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

_TRAIN, _EVAL = "#1f77b4", "#ff7f0e"


def curves(name: str, train: Sequence[float], evaluation: Sequence[float]) -> bytes:
    """One metric per epoch on the train and eval splits."""
    figure, axes = plt.subplots(figsize=(5, 3.2))
    for values, label, color in ((train, "train", _TRAIN), (evaluation, "eval", _EVAL)):
        epochs = [i + 1 for i, v in enumerate(values) if not math.isnan(v)]
        axes.plot(epochs, [v for v in values if not math.isnan(v)], marker="o", label=label, color=color)
    axes.set(title=f"{name} per epoch", xlabel="epoch", ylabel=name)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend()
    return _png(figure)


def value_counts(name: str, by_split: Dict[str, List[Tuple[str, float]]], limit: int = 30) -> bytes:
    """Counts of a categorical feature's values, one bar per split side by side, most frequent first."""
    splits = list(by_split)
    totals: Dict[str, float] = {}
    for counts in by_split.values():
        for value, count in counts:
            totals[value] = totals.get(value, 0.0) + count
    values = sorted(totals, key=lambda v: (-totals[v], v))[:limit]
    figure, axes = plt.subplots(figsize=(max(5, 0.45 * len(values) * max(1, len(splits))), 3.4))
    width = 0.8 / max(1, len(splits))
    for i, split in enumerate(splits):
        counts = dict(by_split[split])
        axes.bar(np.arange(len(values)) + i * width, [counts.get(v, 0) for v in values], width, label=split)
    axes.set_xticks(np.arange(len(values)) + 0.4 - width / 2, values, rotation=45 if len(values) > 6 else 0,
                    ha="right" if len(values) > 6 else "center")
    axes.set(title=f"{name}: values per split", ylabel="count")
    axes.legend()
    return _png(figure)


def histogram(title: str, buckets: Sequence[Tuple[float, float, float]], xlabel: str) -> bytes:
    """TFDV's equal-width histogram buckets (low, high, count) as bars."""
    figure, axes = plt.subplots(figsize=(5, 3.2))
    lows, highs, counts = zip(*buckets)
    widths = [max(high - low, 1e-9) for low, high in zip(lows, highs)]
    axes.bar(lows, counts, width=widths, align="edge", color=_TRAIN, edgecolor="white")
    axes.set(title=title, xlabel=xlabel, ylabel="examples")
    return _png(figure)


def confusion(counts: np.ndarray, names: Sequence[str]) -> bytes:
    """Actual class (rows) against predicted class (columns), with the count in each cell."""
    size = counts.shape[0]
    figure, axes = plt.subplots(figsize=(max(3.6, 1.4 + 0.7 * size), max(3.2, 1.2 + 0.7 * size)))
    axes.imshow(counts, cmap="Blues")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), value in np.ndenumerate(counts):
        axes.text(column, row, f"{value:g}", ha="center", va="center",
                  color="white" if value > threshold else "black")
    axes.set_xticks(range(size), names, rotation=45 if size > 4 else 0, ha="right" if size > 4 else "center")
    axes.set_yticks(range(size), names)
    axes.set(title="confusion matrix", xlabel="predicted", ylabel="actual")
    return _png(figure)


def bars(title: str, rows: Dict[str, Dict[str, Optional[float]]]) -> bytes:
    """Grouped bars: one group per row (a class or an entity type), one bar per column (precision, recall, F1)."""
    names = list(rows)
    columns = sorted({c for values in rows.values() for c in values})
    figure, axes = plt.subplots(figsize=(max(5, 0.6 * len(names) * len(columns)), 3.2))
    width = 0.8 / max(1, len(columns))
    for i, column in enumerate(columns):
        axes.bar(np.arange(len(names)) + i * width, [rows[n].get(column) or 0.0 for n in names], width, label=column)
    axes.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    axes.set(title=title, ylim=(0, 1.05))
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _png(figure)


def _png(figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()
