"""tf.data for masked-LM pretraining: Transform's per-document piece ids -> instances -> masked batches.

Transform keeps only tokenization (with the vocabulary's lineage); everything random happens here, per epoch:
documents and instances are reshuffled, NSP partners re-drawn and masks re-drawn (`masking.uniform` with no seed).
The eval split is one pass with draws seeded by masking.EVALUATION_SEED, so every epoch and every run scores the
same targets.
"""
from typing import Sequence

import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.tasks.masked_lm import masking, segments
from components.tasks.masked_lm.model import MLM, NSP

_AUTOTUNE = tf.data.AUTOTUNE
_DOCUMENTS_PER_BATCH = 64  # documents cut into instances together
_SHUFFLE_DOCUMENTS, _SHUFFLE_INSTANCES = 10_000, 10_000  # instances: also the pool NSP partners come from


class MaskedLMData:
    """Builds the train and eval datasets of one Trainer run; `masker` holds the vocabulary-derived constants."""

    def __init__(self, tft_output: tft.TFTransformOutput, masker: masking.Masker, max_seq_length: int, nsp: bool,
                 seed: int):
        spec = tft_output.transformed_feature_spec()
        self._spec = {name: spec[name] for name in (features.TOKEN_IDS, features.SENTENCE_LENGTHS)}
        self._masker, self._length, self._nsp, self._seed = masker, max_seq_length, nsp, seed

    def dataset(self, files: Sequence[str], batch_size: int, training: bool) -> tf.data.Dataset:
        """Yields (inputs: token_ids, padding_mask, segment_ids (B, L), mask_positions (B, P);
        targets: {mlm: (B, P), nsp: (B,)}; weights: {mlm: mask_weights (B, P), nsp: ones (B,)}), nsp when asked.

        Training repeats forever; evaluation is one pass of known length."""
        documents = tf.data.TFRecordDataset(files, compression_type="GZIP").cache().enumerate()  # (key, record)
        if training:
            documents = documents.shuffle(_SHUFFLE_DOCUMENTS, seed=self._seed, reshuffle_each_iteration=True).repeat()
        instances = documents.batch(_DOCUMENTS_PER_BATCH).map(self._instances, _AUTOTUNE).unbatch()
        if training or self._nsp:  # evaluation shuffles once, the same each time, for other-document partners
            instances = instances.shuffle(_SHUFFLE_INSTANCES, seed=self._seed if training else masking.EVALUATION_SEED,
                                          reshuffle_each_iteration=training)
        seed = None if training else masking.EVALUATION_SEED
        batches = instances.ragged_batch(batch_size, drop_remainder=training).map(
            lambda batch: self._model_data(batch, seed), _AUTOTUNE)
        if not training:  # a known length keeps Keras from warning that validation data "ran out"
            batches = batches.apply(tf.data.experimental.assert_cardinality(
                -(-self.count(files) // batch_size)))
        return batches.prefetch(_AUTOTUNE)

    def count(self, files: Sequence[str]) -> int:
        """Instances in one pass over `files` (steps per epoch come from it)."""
        lengths = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(256).map(
            lambda records: self._documents(records)[0].row_lengths())
        per_batch = lengths.map(lambda n: segments.count(n, self._length, self._nsp))
        return int(per_batch.reduce(tf.constant(0, tf.int64), lambda total, n: total + n))

    def _documents(self, records):
        parsed = tf.io.parse_example(records, self._spec)
        return (tf.RaggedTensor.from_sparse(parsed[features.TOKEN_IDS]),
                tf.RaggedTensor.from_sparse(parsed[features.SENTENCE_LENGTHS]))

    def _instances(self, keys, records) -> dict:
        documents, sentence_lengths = self._documents(records)  # (D, (T)), (D, (S))
        cut = segments.instances(documents, sentence_lengths, self._length, self._nsp)
        out = {"first": cut.first, "key": tf.gather(keys, cut.rows)}
        if self._nsp:
            out["second"] = cut.second
        return out

    def _model_data(self, batch: dict, seed):
        targets, weights = {}, {}
        second = batch.get("second")
        if self._nsp:
            second, targets[NSP] = segments.with_random_seconds(batch["first"], second, batch["key"], self._length,
                                                                seed)
            weights[NSP] = tf.ones_like(targets[NSP], tf.float32)
        inputs = self._masker(segments.pack(batch["first"], second, self._length), seed)
        targets[MLM], weights[MLM] = inputs.pop(masking.MASK_IDS), inputs.pop(masking.MASK_WEIGHTS)
        return inputs, targets, weights
