"""The causal LM's SavedModel: prompts in, generated text out, with decoding inside the graph.

Signatures:
  serving_default, generate  prompt: tf.string (B,); max_new_tokens: int32, temperature: float32, top_k: int32,
                             top_p: float32, seed: int64, each a scalar or (B,)  -> text: tf.string (B,)
                             temperature 0 is greedy; top_k 0 and top_p 1 filter nothing
  score_examples             examples: serialized tf.Example (B,) -> loss_sum, token_count: float32 (B,), each
                             document's summed token loss and number of predicted tokens (TFMA's perplexity)

A prompt is tokenized by the Transform graph and starts after a document separator, as every document does in
training, so an empty prompt starts a new document.
Beside the SavedModel, `presets.BACKBONE_DIR` holds the GPT-2 backbone (the whole model: its output layer is the
tied embedding) and the vocabulary, with the casing Transform used, as a keras-hub preset: what a causal LM
continues from (base_model.source=pipeline).
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
from components.nn import base_vocabulary, generation, presets
from components.nn.losses import token_losses
from components.nn.metrics.lm_eval_config import SCORE_SIGNATURE
from components.nn.metrics.tfma_perplexity import LOSS_SUM, TOKEN_COUNT
from components.tasks.causal_lm import packing
from components.text.readers.text_corpus import TEXT
from components.text.tokenization.detokenizer import detokenize
from components.text.tokenization.tokenizer import read_vocabulary

PROMPT_WORDS = 4  # request_text: how much of a document a sample prompt keeps
_SCORE_CHUNK = 16  # windows scored per model call: bounds the (windows, length, vocabulary) logits in memory


def _settings(name, dtype):
    return tf.TensorSpec(None, dtype, name=name)  # any rank: one value for the batch, or one per prompt


class CausalLMServingModule(tf.Module):
    """Tracks the model and the Transform layer together so the vocabulary's tables are saved with the graph."""

    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, text_key: str, context: int):
        super().__init__()
        self.model = model
        self.tft_layer = tft_output.transform_features_layer()
        self._text_key, self._text_spec = text_key, tft_output.raw_feature_spec()[text_key]
        self._context = context
        self._vocabulary = tf.constant(read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB)))

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="prompt"), _settings("max_new_tokens", tf.int32),
        _settings("temperature", tf.float32), _settings("top_k", tf.int32), _settings("top_p", tf.float32),
        _settings("seed", tf.int64)])
    def generate(self, prompt, max_new_tokens, temperature, top_k, top_p, seed):
        batch = tf.shape(prompt)[:1]
        per_row = lambda value: tf.broadcast_to(tf.reshape(value, [-1]), batch)  # noqa: E731
        documents = self._documents({self._text_key: as_raw(prompt, self._text_spec)})  # (B, (P))
        starts = tf.fill([documents.nrows(), 1], packing.DOCUMENT_END_ID)
        new_tokens = generation.generate(  # (B, N)
            self.model, tf.concat([starts, documents], axis=1), per_row(max_new_tokens), per_row(temperature),
            per_row(top_k), per_row(top_p), per_row(seed), self._context)
        return {"text": detokenize(new_tokens, self._vocabulary)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def score_examples(self, examples):
        raw = tf.io.parse_example(examples, {self._text_key: self._text_spec})
        windows = packing.windows(packing.document_streams(self._documents(raw)), self._context)
        rows, of = tf.size(examples), windows["row"]
        return {LOSS_SUM: tf.math.unsorted_segment_sum(self._window_losses(windows), of, rows),
                TOKEN_COUNT: tf.math.unsorted_segment_sum(tf.reduce_sum(windows["weights"], -1), of, rows)}

    def _documents(self, raw: dict) -> tf.RaggedTensor:
        """Raw features -> int32 (B, (P)) word-piece ids, through the Transform graph."""
        return tf.RaggedTensor.from_sparse(tf.cast(self.tft_layer(raw)[features.TOKEN_IDS], tf.int32))

    def _window_losses(self, windows: dict) -> tf.Tensor:
        """(W,) summed token loss of each window, the model run on _SCORE_CHUNK windows at a time."""
        count = tf.shape(windows["targets"])[0]
        chunks = (count + _SCORE_CHUNK - 1) // _SCORE_CHUNK
        names = (features.TOKEN_IDS, features.PADDING_MASK, "targets", "weights")
        chunked = tuple(tf.reshape(tf.pad(windows[n], [[0, chunks * _SCORE_CHUNK - count], [0, 0]]),
                                   [chunks, _SCORE_CHUNK, self._context]) for n in names)  # (C, chunk, L) each

        def chunk_losses(chunk):
            token_ids, padding_mask, targets, weights = chunk
            logits = self.model({features.TOKEN_IDS: token_ids, features.PADDING_MASK: padding_mask},
                                training=False)  # (chunk, L, V)
            losses = tf.where(weights > 0, token_losses(targets, logits), 0.0)  # (chunk, L); padding may be NaN
            return tf.reduce_sum(losses, axis=-1)  # (chunk,)

        losses = tf.map_fn(chunk_losses, chunked, fn_output_signature=tf.float32)  # (C, chunk)
        return tf.reshape(losses, [-1])[:count]


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """A prompt a client might send for one raw example: the document's first PROMPT_WORDS words, which the model
    continues (the run report shows a few such generation samples)."""
    return " ".join(raw[TEXT][0].decode("utf-8").split()[:PROMPT_WORDS])


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    module = CausalLMServingModule(model, tft_output, TEXT, config.tokenizer.max_seq_length)
    generate = module.generate.get_concrete_function()
    tf.saved_model.save(module, export_dir, signatures={
        DEFAULT_SIGNATURE: generate, "generate": generate,
        SCORE_SIGNATURE: module.score_examples.get_concrete_function()})
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))
    presets.save(model.backbone, vocabulary, base_vocabulary.lowercase(config, presets.CAUSAL_LM),
                 os.path.join(export_dir, presets.BACKBONE_DIR))
