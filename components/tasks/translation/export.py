"""The translation SavedModel: raw source text in, translations out, decoded inside the graph with a decoder cache.

Signatures:
  serving_default     source: tf.string (B,)            -> translation: tf.string (B,), decoded with the served
                                                            settings (decoding.*: beam width, length penalty, max
                                                            new pieces) baked in at export
  serving_examples    examples: serialized tf.Example    -> the same (what TFMA calls: the Evaluator scores the eval
                                                            split decoded exactly as served)
  translate           source: tf.string (B,); beam_width: int32, length_penalty: float32, max_new_tokens: int32,
                      each a scalar or (B,)              -> translation; beam_width 1 is greedy
  decoder_logits      source: tf.string (B,); decoder_token_ids: int32 (B, T) -> logits: float32 (B, T, V), the
                      whole prefix recomputed, no cache (for reference decoding and checks)
  transform_features  examples: serialized tf.Example    -> Transform's outputs

Translations are target pieces joined as space-marked text (components/text/tokenization/detokenizer.join_marked):
spaces, placeholders and CJK come back as the vocabulary spells them.
"""
from typing import Mapping, Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.core.warmup import DEFAULT_SIGNATURE
from components.export import TransformServingModule, as_raw
from components.nn import decoding
from components.tasks.translation.evaluation import TRANSLATION
from components.tasks.translation.train import vocabularies
from components.text.tokenization.detokenizer import join_marked


def _setting(name, dtype):
    return tf.TensorSpec(None, dtype, name=name)  # any rank: one value for the batch, or one per source


class TranslationServingModule(TransformServingModule):
    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, beam_width: int,
                 length_penalty: float, max_new_tokens: int, target_length: int):
        super().__init__(model, tft_output, [features.TARGET])
        self._vocabulary = tf.constant(vocabularies(tft_output)[1])
        self._served = (beam_width, length_penalty, min(max_new_tokens or target_length, target_length))
        self._target_length = target_length

    def _encoder_inputs(self, raw_features: dict) -> dict:
        """The Transform graph's source features, int32, cut to the batch's longest source."""
        transformed = self.tft_layer(raw_features)
        length = tf.maximum(tf.reduce_max(tf.reduce_sum(transformed[features.PADDING_MASK], axis=1)), 1)
        return {name: tf.cast(transformed[name][:, :length], tf.int32) for name in features.MODEL_INPUTS}

    def _translate(self, raw_features: dict, beam_width, length_penalty, max_new_tokens) -> dict:
        inputs = self._encoder_inputs(raw_features)
        batch = tf.shape(inputs[features.TOKEN_IDS])[:1]
        per_row = lambda value, dtype: tf.broadcast_to(tf.reshape(tf.cast(value, dtype), [-1]), batch)  # noqa
        pieces = decoding.decode(
            self.model, inputs, tf.maximum(per_row(beam_width, tf.int32), 1), per_row(length_penalty, tf.float32),
            tf.clip_by_value(per_row(max_new_tokens, tf.int32), 1, self._target_length))
        return {TRANSLATION: join_marked(pieces, self._vocabulary)}

    def _predict(self, raw_features: dict) -> dict:
        return self._translate(raw_features, *self._served)

    def _raw(self, source) -> dict:
        return {features.SOURCE: as_raw(source, self._raw_spec[features.SOURCE])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="source")])
    def serve_text(self, source):
        return self._predict(self._raw(source))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="source"), _setting("beam_width", tf.int32),
                                  _setting("length_penalty", tf.float32), _setting("max_new_tokens", tf.int32)])
    def translate(self, source, beam_width, length_penalty, max_new_tokens):
        return self._translate(self._raw(source), beam_width, length_penalty, max_new_tokens)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="source"),
                                  tf.TensorSpec([None, None], tf.int32, name="decoder_token_ids")])
    def decoder_logits(self, source, decoder_token_ids):
        inputs = self._encoder_inputs(self._raw(source))
        inputs[features.DECODER_TOKEN_IDS] = decoder_token_ids
        inputs[features.DECODER_PADDING_MASK] = tf.ones_like(decoder_token_ids)
        return {"logits": self.model(inputs, training=False)}

    def save(self, export_dir: str) -> None:
        tf.saved_model.save(self, export_dir, signatures={
            DEFAULT_SIGNATURE: self.serve_text.get_concrete_function(),
            "serving_examples": self.serve_examples.get_concrete_function(),
            "transform_features": self.transform_features.get_concrete_function(),
            "translate": self.translate.get_concrete_function(),
            "decoder_logits": self.decoder_logits.get_concrete_function(),
        })


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """What a client sends for one raw example: its source sentence (the run report serves a few)."""
    return raw[config.data.source_column][0].decode("utf-8")


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    served = config.decoding
    TranslationServingModule(model, tft_output, served.beam_width, served.length_penalty, served.max_new_tokens,
                             config.tokenizer.target_length).save(export_dir)
