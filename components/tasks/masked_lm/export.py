"""The masked LM's export: a scoring SavedModel for the Evaluator, and the backbone as a preset for fine-tuning.

Signatures:
  serving_default  text: tf.string (B,)              -> loss_sum, correct_count, token_count: float32 (B,)
  score_examples   examples: serialized tf.Example   -> the same per document (TFMA's perplexity, token accuracy)

A document is cut into instances as in training (NSP pairs keep their true B) and masked with draws that depend
only on each instance's pieces and masking.EVALUATION_SEED, so a candidate and its baseline are scored on the very
same targets (given the same pretraining settings).
Beside the SavedModel, `presets.BACKBONE_DIR` holds the backbone and vocabulary (with the casing Transform used) as
a keras-hub preset: what fine-tuning, or continued pretraining, starts from.
"""
import os
from typing import Mapping, Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.core.warmup import DEFAULT_SIGNATURE
from components.export import as_raw
from components.nn import base_vocabulary, presets
from components.nn.losses import token_losses
from components.nn.metrics.lm_eval_config import SCORE_SIGNATURE
from components.nn.metrics.tfma_perplexity import CORRECT_COUNT, LOSS_SUM, TOKEN_COUNT
from components.tasks.masked_lm import masking, segments
from components.tasks.masked_lm.chunked import map_in_chunks
from components.tasks.masked_lm.model import MLM, backbone_of
from components.tasks.masked_lm.train import masker_for
from components.text.readers.text_corpus import SENTENCES, TEXT
from components.text.tokenization.tokenizer import read_vocabulary

_SCORE_CHUNK = 16  # instances per model call: bounds the (instances, targets, vocabulary) logits in memory


class MaskedLMServingModule(tf.Module):
    """Tracks the model and the Transform layer together so the vocabulary's tables are saved with the graph."""

    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, masker: masking.Masker,
                 max_seq_length: int, nsp: bool):
        super().__init__()
        self.model = model
        self.tft_layer = tft_output.transform_features_layer()
        self._spec = {SENTENCES: tft_output.raw_feature_spec()[SENTENCES]}
        self._masker, self._length, self._nsp = masker, max_seq_length, nsp

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_text(self, text):
        return self._score({SENTENCES: as_raw(text, self._spec[SENTENCES])})  # each text one sentence

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def score_examples(self, examples):
        return self._score(tf.io.parse_example(examples, self._spec))

    def _score(self, raw: dict) -> dict:
        transformed = self.tft_layer(raw)
        documents = tf.RaggedTensor.from_sparse(transformed[features.TOKEN_IDS])  # (B, (T))
        cut = segments.instances(documents, tf.RaggedTensor.from_sparse(transformed[features.SENTENCE_LENGTHS]),
                                 self._length, self._nsp)
        inputs = self._masker(segments.pack(cut.first, cut.second, self._length),
                              masking.EVALUATION_SEED)  # (N, ...) each
        scores = map_in_chunks(self._instance_scores, inputs, _SCORE_CHUNK, (LOSS_SUM, CORRECT_COUNT, TOKEN_COUNT))
        return {name: tf.math.unsorted_segment_sum(value, cut.rows, documents.nrows())  # (B,)
                for name, value in scores.items()}

    def _instance_scores(self, inputs: dict) -> dict:
        """(chunk,) summed target loss, correct predictions and targets of each instance."""
        inputs = dict(inputs)
        targets, weights = inputs.pop(masking.MASK_IDS), inputs.pop(masking.MASK_WEIGHTS)  # (chunk, P)
        logits = self.model(inputs, training=False)[MLM]  # (chunk, P, V)
        losses = tf.where(weights > 0, token_losses(targets, logits), 0.0)
        correct = tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == targets, tf.float32) * weights
        return {LOSS_SUM: tf.reduce_sum(losses, -1), CORRECT_COUNT: tf.reduce_sum(correct, -1),
                TOKEN_COUNT: tf.reduce_sum(weights, -1)}


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """What a client sends for one raw example: the document, to be scored (the run report serves a few)."""
    return raw[TEXT][0].decode("utf-8")


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    module = MaskedLMServingModule(model, tft_output, masker_for(config, tft_output), config.tokenizer.max_seq_length,
                                   config.pretraining.nsp)
    tf.saved_model.save(module, export_dir, signatures={
        DEFAULT_SIGNATURE: module.serve_text.get_concrete_function(),
        SCORE_SIGNATURE: module.score_examples.get_concrete_function()})
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))
    presets.save(backbone_of(model), vocabulary, base_vocabulary.lowercase(config, presets.MASKED_LM),
                 os.path.join(export_dir, presets.BACKBONE_DIR))
