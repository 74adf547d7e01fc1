"""The token classifier's SavedModel: raw text in, entities with character offsets out.

Signatures:
  serving_default    text: tf.string (B,)            -> entities: tf.string (B,), one JSON array per text
  serving_examples   examples: serialized tf.Example  -> tags: tf.string (B, L), the decoded tag of the first piece
                                                        of each kept word, "" elsewhere (TFMA's predictions)
  transform_features examples: serialized tf.Example  -> Transform's outputs plus label_tags: tf.string (B, L), the
                                                        true tags laid out like `tags` (TFMA's labels)

serving_default splits the text into words with `tokenizer.split_words_with_offsets` (the word boundaries the
tokenizer itself uses, as substrings of the original text) and hands them to the Transform graph as the `tokens`
feature, so the word pieces are Transform's own; the k-th tagged position is the k-th word (word_alignment), which
maps tags back to character offsets (entity_spans.py has the format). Over TF Serving's REST API a
prediction is that JSON text, e.g. "[{\"text\": \"Paris\", \"type\": \"LOC\", \"start\": 17, \"end\": 22,
\"score\": 0.98}]": clients json-decode it. A JSON string is the one output type that carries a variable number of
entities per text through REST and gRPC alike. Words after truncation (tokenizer.max_seq_length) get no tags.

The split normalizes as tokenizer.lowercase says; with and without lowercasing, words differ only around zero-width
characters, so a base model whose casing overrides that setting (components/nn/base_vocabulary.py) may split
such rare words differently from its training data.
"""
from typing import Mapping, Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.export import TransformServingModule
from components.tasks.token_classification import entity_spans
from components.tasks.token_classification.model import input_names
from components.text.tokenization import tokenizer

ENTITIES = "entities"
PREDICTED_TAGS = "tags"
LABEL_TAGS = "label_tags"


class EntityServingModule(TransformServingModule):
    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, lowercase: bool):
        super().__init__(model, tft_output, [features.TAGS])
        tag_names = [t.decode("utf-8") for t in tft_output.vocabulary_by_name(features.TAG_VOCAB)]
        self._tag_names = tf.constant(tag_names)
        self._chunker = entity_spans.EntityChunker(tag_names)
        self._lowercase = lowercase

    def _tag(self, raw_features: dict):
        """Decoded tags int32 (B, L) (IGNORE_TAG off tag_mask), the probability of each (B, L), and tag_mask."""
        transformed = self.tft_layer(raw_features)
        names = input_names(self.model.word_shapes) + (features.TAG_MASK,)
        inputs = {name: tf.cast(transformed[name], tf.int32) for name in names}
        scores = self.model(inputs, training=False)  # (B, L, K) float32
        tags = self.model.decode(scores, inputs[features.TAG_MASK])  # (B, L)
        probability = tf.gather(tf.nn.softmax(scores), tf.maximum(tags, 0), batch_dims=2)  # (B, L)
        return tags, probability, inputs[features.TAG_MASK]

    def _names(self, tag_ids: tf.Tensor) -> tf.Tensor:
        return tf.where(tag_ids >= 0, tf.gather(self._tag_names, tf.maximum(tag_ids, 0)), "")

    def _predict(self, raw_features: dict) -> dict:
        return {PREDICTED_TAGS: self._names(self._tag(raw_features)[0])}

    def _evaluation_labels(self, transformed: dict) -> dict:
        return {LABEL_TAGS: self._names(transformed[features.TAG_IDS])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_text(self, text):
        words, starts, ends = tokenizer.split_words_with_offsets(text, self._lowercase)  # [B, (W)] each
        tags, probability, tag_mask = self._tag({features.TOKENS: _as_raw_words(words,
                                                                                self._raw_spec[features.TOKENS])})
        tagged = tf.cast(tag_mask, tf.bool)
        spans = self._chunker.spans(tf.ragged.boolean_mask(tags, tagged), tf.ragged.boolean_mask(probability, tagged))
        first_word = tf.gather(starts.row_starts(), spans.rows) + spans.first_word  # flat word indexes
        last_word = tf.gather(starts.row_starts(), spans.rows) + spans.end_word - 1
        return {ENTITIES: entity_spans.to_json(text, spans.rows, tf.gather(starts.flat_values, first_word),
                                               tf.gather(ends.flat_values, last_word), spans.types, spans.scores)}


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """What a client sends for one raw example, its words joined by spaces (the run report serves a few)."""
    return " ".join(word.decode("utf-8") for word in raw[features.TOKENS])


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    EntityServingModule(model, tft_output, config.tokenizer.lowercase).save(export_dir)


def _as_raw_words(words: tf.RaggedTensor, spec):
    """Words [B, (W)] as the raw feature spec Transform was traced with (SchemaGen makes `tokens` a VarLenFeature)."""
    if isinstance(spec, tf.io.RaggedFeature):
        return words
    if isinstance(spec, tf.io.VarLenFeature):
        return words.to_sparse()
    raise TypeError(f"the raw {features.TOKENS!r} feature must be variable-length, not {spec}")
