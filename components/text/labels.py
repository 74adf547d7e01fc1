"""The label vocabulary: learned by Beam inside Transform, in a deterministic (sorted) order."""
import os

import apache_beam as beam
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import features
from components.core.errors import UserError
from components.text.tokenization import tokenizer


def label_ids(labels, vocab_name: str = features.LABEL_VOCAB):
    """Ids in sorted label order (numbers numerically: "2" < "10"; text lexicographically: "negative" < "positive").

    tft.vocabulary orders by frequency, so ids would swap between datasets whose class balance differs.
    Labels unseen in the analyzed data, and empty ones, map to -1. The vocabulary is the asset `vocab_name`.
    """
    path, = tft.experimental.ptransform_analyzer(  # the placeholder must be a valid (non-empty) vocabulary file
        [labels], _SortedLabels(vocab_name), [tf.string], [[]], output_asset_default_values=[b"placeholder\n"],
        name=vocab_name)
    return tft.apply_vocabulary(labels, path)


class _SortedLabels(tft_beam.experimental.PTransformAnalyzer):
    """Batches of labels -> the path of a file with the distinct non-empty labels, sorted."""

    def __init__(self, vocab_name: str):
        super().__init__()
        self._vocab_name = vocab_name

    def expand(self, batches):
        path = os.path.join(self.base_temp_dir, self._vocab_name)
        return (batches
                | "Labels" >> beam.FlatMap(lambda batch: set(batch[0].tolist()))
                | "Distinct" >> beam.Distinct()
                | "DropEmpty" >> beam.Filter(bool)  # lookup tables reject empty lines
                | "Gather" >> beam.combiners.ToList()
                | "Write" >> beam.Map(lambda labels: tokenizer.write_vocabulary(_sorted_labels(labels), path)))


def _sorted_labels(labels):
    if not labels:
        raise UserError("the label column is empty in every row", hint="check data.label_column")
    return sorted((label.decode("utf-8") for label in labels), key=_label_order)


def _label_order(label):
    try:
        return 0, int(label), label
    except ValueError:
        return 1, 0, label
