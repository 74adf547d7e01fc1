"""The training view, from the TensorBoard event files the Trainer wrote (its model_run output): each epoch's loss
and metrics on the train and eval splits, and its seconds and examples/s (components/training/progress.py adds
them to Keras' logs, so TensorBoard's callback records them)."""
import dataclasses
import glob
import os
from typing import Dict, List, Optional

import tensorflow as tf

from components.training.progress import EXAMPLES_PER_SECOND, SECONDS
from pipeline.report import html, plots

TRAIN, EVAL = "train", "validation"  # Keras' TensorBoard callback writes one directory each
_PREFIX = "epoch_"  # and names each epoch's scalar epoch_<log key>


@dataclasses.dataclass(frozen=True)
class Curves:
    log_dir: str
    train: Dict[str, List[float]]  # log key -> value per epoch (NaN where an epoch lacks it)
    evaluation: Dict[str, List[float]]

    @property
    def epochs(self) -> int:
        return max((len(v) for v in (*self.train.values(), *self.evaluation.values())), default=0)

    def seconds(self) -> List[float]:
        return self.train.get(SECONDS, [])

    def examples_per_second(self) -> List[float]:
        return self.train.get(EXAMPLES_PER_SECOND, [])

    def metrics(self) -> List[str]:
        """The model's metrics logged on both splits, loss first."""
        return sorted(set(self.train) & set(self.evaluation), key=lambda name: (name != "loss", name))


def read(log_dir: Optional[str]) -> Optional[Curves]:
    """None when the Trainer wrote no event files (it did not run)."""
    if not log_dir or not glob.glob(os.path.join(log_dir, TRAIN, "events.out.tfevents.*")):
        return None
    return Curves(log_dir, _scalars(os.path.join(log_dir, TRAIN)), _scalars(os.path.join(log_dir, EVAL)))


def _scalars(directory: str) -> Dict[str, List[float]]:
    """Epoch scalars of all event files in `directory`; a resumed run's repeat of an epoch overrides the first."""
    by_epoch: Dict[str, Dict[int, float]] = {}
    for path in sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag.startswith(_PREFIX):
                    number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                    by_epoch.setdefault(value.tag[len(_PREFIX):], {})[int(event.step)] = number
    epochs = 1 + max((max(v) for v in by_epoch.values()), default=-1)
    return {name: [values.get(epoch, float("nan")) for epoch in range(epochs)] for name, values in by_epoch.items()}


def render(curves: Optional[Curves], tensorboard: str) -> List[str]:
    """The training section's blocks; `tensorboard` is the command that opens the same event files."""
    if curves is None:
        return [html.paragraph("The Trainer wrote no TensorBoard event files in this run.", "muted")]
    names = curves.metrics()
    headers = ["epoch", "seconds", "examples/s"] + [f"{name} ({split})" for name in names
                                                    for split in ("train", "eval")]
    rows = []
    for epoch in range(curves.epochs):
        row = [html.cell(epoch + 1)]
        for values, form in ((curves.seconds(), "{:.1f}"), (curves.examples_per_second(), "{:,.0f}")):
            value = values[epoch] if epoch < len(values) else float("nan")
            row.append(html.cell(form.format(value), value))
        for name in names:
            for split, values in (("train", curves.train[name]), ("eval", curves.evaluation[name])):
                value = values[epoch] if epoch < len(values) else float("nan")
                row.append(html.cell(f"{value:.4g}", value, metric=name, split=split, epoch=str(epoch + 1)))
        rows.append(row)
    pictures = [(f"{name} per epoch", plots.curves(name, curves.train[name], curves.evaluation[name]))
                for name in names]
    return [html.images(pictures), html.table(headers, rows),
            html.paragraph("seconds: the whole epoch, evaluation included; examples/s: its training steps."),
            html.raw_paragraph(html.escape("The same curves in TensorBoard:"),
                               f"<code>{html.escape(tensorboard)}</code>")]
