"""Learns the WordPiece vocabulary from the analyzed data, inside Transform, so the vocabulary has lineage.

Inside Transform: the Transform graph splits texts into words with the tokenizer's own ops (in Beam workers),
a CombinePerKey counts them across workers, rare words are dropped before anything is gathered, and one step learns
the vocabulary from the (word, count) list with tensorflow-text's learner (wordpiece_search.py: the same
vocabulary, its repeated work done once). The vocabulary file becomes a Transform asset named
`features.WORDPIECE_VOCAB`. FastWordpieceTokenizer cannot read a vocabulary file in the graph (it needs
the vocabulary compiled into a flatbuffer model), so the same step also writes the compiled model as a second asset
that the graph reads. Both are asset outputs because tft 1.16's ptransform_analyzer treats every output as an asset
as soon as one is (a None default does not mark a plain value).

Outside TFX (benchmarks): `learn_vocabulary` runs the same core in plain Python. Fine-tuning a pretrained model
skips learning: `given_encoder` writes that model's vocabulary as the same assets.
"""
import collections
import itertools
import os
from typing import Iterable, List, Mapping, Tuple, Union

import apache_beam as beam
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import features
from components.core.errors import UserError
from components.text.tokenization import tokenizer, wordpiece_search

MODEL_FILE = "wordpiece_model"  # the compiled vocabulary, beside features.WORDPIECE_VOCAB in the assets
# Transform runs the whole graph on placeholder assets while it analyzes, so they must be valid: an invalid
# FastWordpiece model crashes the process. ("a": the model builder needs one token that can match a word.)
_PLACEHOLDER_VOCAB = features.SPECIAL_TOKENS + ("a",)
_SPLIT_BATCH = 4096


def wordpiece_model(texts: tf.Tensor, *, vocab_size: int, lowercase: bool, min_word_count: int,
                    vocab_name: str = features.WORDPIECE_VOCAB) -> tf.Tensor:
    """In a preprocessing_fn: learns the vocabulary from all of `texts` ([B]) and returns it compiled, for Encoder.

    The vocabulary itself lands in the Transform output's assets as `vocab_name` (a second vocabulary, e.g. a
    translation target's, needs a name of its own).
    """
    words = tokenizer.split_words(texts, lowercase).flat_values
    analyzer = "wordpiece_vocabulary" if vocab_name == features.WORDPIECE_VOCAB else f"{vocab_name}_learner"
    return _vocabulary_assets(words, _LearnWordPiece(vocab_size, min_word_count, vocab_name), analyzer)


def given_encoder(texts: tf.Tensor, vocabulary: List[str], lowercase: bool, max_seq_length: int) -> tokenizer.Encoder:
    """In a preprocessing_fn: the Encoder for a fixed vocabulary (a pretrained model's), written as the same assets
    a learned one is, so everything downstream finds it the same way."""
    model = _vocabulary_assets(texts, _GivenVocabulary(vocabulary), "given_vocabulary")
    return tokenizer.Encoder(model, lowercase, max_seq_length)


def _vocabulary_assets(inputs: tf.Tensor, ptransform, name: str) -> tf.Tensor:
    """Runs `ptransform` (-> vocabulary path, compiled model path) as an analyzer; returns the compiled model."""
    _, model_path = tft.experimental.ptransform_analyzer(
        inputs=[inputs],
        ptransform=ptransform,
        output_dtypes=[tf.string, tf.string],
        output_shapes=[[], []],
        output_asset_default_values=["".join(f"{token}\n" for token in _PLACEHOLDER_VOCAB).encode("utf-8"),
                                     tokenizer.compile_vocabulary(_PLACEHOLDER_VOCAB)],
        name=name)
    return tf.io.read_file(model_path)  # per call, ~0.05 ms for an 8k vocabulary


def learned_encoder(texts: tf.Tensor, config, vocab_name: str = features.WORDPIECE_VOCAB) -> tokenizer.Encoder:
    """In a preprocessing_fn: the Encoder for the vocabulary learned from `texts` ([B]) as `config` (a
    TokenizerConfig) says, kept as the asset `vocab_name`."""
    model = wordpiece_model(texts, vocab_size=config.vocab_size, lowercase=config.lowercase,
                            min_word_count=config.min_word_count, vocab_name=vocab_name)
    return tokenizer.Encoder(model, config.lowercase, config.max_seq_length)


def learn_vocabulary(texts_or_word_counts: Union[Iterable[str], Mapping[str, int]], *, vocab_size: int,
                     lowercase: bool = True, min_word_count: int = 1) -> List[str]:
    """The vocabulary Transform would learn, without Beam: from raw texts, or from a word -> count mapping."""
    if isinstance(texts_or_word_counts, Mapping):
        word_counts = texts_or_word_counts
    else:
        word_counts = _count_words(texts_or_word_counts, lowercase)
    return vocabulary_from_counts(word_counts.items(), vocab_size=vocab_size, min_word_count=min_word_count)


def vocabulary_from_counts(word_counts: Iterable[Tuple[str, int]], *, vocab_size: int,
                           min_word_count: int) -> List[str]:
    """Special tokens first ([PAD] = 0), then learned wordpieces, at most `vocab_size` tokens in all."""
    # Sorted input makes the result independent of the order in which Beam delivered the counts.
    kept = sorted((word, count) for word, count in word_counts if count >= min_word_count)
    if not kept:
        raise UserError(f"no word occurs at least {min_word_count} times, so no vocabulary can be learned",
                        hint="check the text column, or lower tokenizer.min_word_count")
    # lower_thresh: a wordpiece must be as frequent as a kept word; the learner's default (10) is for large corpora.
    vocab = wordpiece_search.learn(kept, vocab_size=vocab_size, reserved_tokens=list(features.SPECIAL_TOKENS),
                                   lower_thresh=min_word_count)
    # The learner may overshoot (every character and its ##suffix form are kept); its tail is the rarest.
    return vocab[:vocab_size]


def _count_words(texts: Iterable[str], lowercase: bool) -> collections.Counter:
    split = tf.function(lambda batch: tokenizer.split_words(batch, lowercase).flat_values,
                        input_signature=[tf.TensorSpec([None], tf.string)])
    counts = collections.Counter()
    texts = iter(texts)
    while batch := list(itertools.islice(texts, _SPLIT_BATCH)):
        counts.update(split(tf.constant(batch)).numpy().tolist())
    return collections.Counter({word.decode("utf-8"): count for word, count in counts.items()})


class _LearnWordPiece(tft_beam.experimental.PTransformAnalyzer):
    """Batches of words -> (vocabulary file path, compiled model file path), one element each."""

    def __init__(self, vocab_size: int, min_word_count: int, vocab_name: str = features.WORDPIECE_VOCAB):
        super().__init__()
        self._vocab_size = vocab_size
        self._min_word_count = min_word_count
        self._vocab_name = vocab_name

    def expand(self, batches):
        min_count, vocab_size, directory = self._min_word_count, self._vocab_size, self.base_temp_dir
        vocab_name = self._vocab_name
        learned = (
            batches
            | "CountInBatch" >> beam.FlatMap(lambda batch: collections.Counter(batch[0].tolist()).items())
            | "CountWords" >> beam.CombinePerKey(sum)
            | "DropRareWords" >> beam.Filter(lambda word_count: word_count[1] >= min_count)
            | "Decode" >> beam.MapTuple(lambda word, count: (word.decode("utf-8"), count))
            | "Gather" >> beam.combiners.ToList()
            | "Learn" >> beam.Map(lambda counts: vocabulary_from_counts(
                counts, vocab_size=vocab_size, min_word_count=min_count))
            | "Write" >> beam.Map(_write_outputs, directory, vocab_name))
        return _paths(learned)


class _GivenVocabulary(tft_beam.experimental.PTransformAnalyzer):
    """Ignores its input: writes the given vocabulary as the assets `_LearnWordPiece` would write."""

    def __init__(self, vocabulary: List[str]):
        super().__init__()
        self._vocabulary = list(vocabulary)

    def expand(self, batches):
        vocabulary, directory = self._vocabulary, self.base_temp_dir
        written = (batches
                   | "Once" >> beam.combiners.Count.Globally()
                   | "Write" >> beam.Map(lambda _: _write_outputs(vocabulary, directory)))
        return _paths(written)


def _paths(written):
    """(vocabulary path, model path) pairs -> the two outputs ptransform_analyzer expects."""
    return written | "Path" >> beam.Map(lambda out: out[0]), written | "Model" >> beam.Map(lambda out: out[1])


def model_file(vocab_name: str) -> str:
    """The compiled model's asset file name beside the vocabulary `vocab_name`."""
    return MODEL_FILE if vocab_name == features.WORDPIECE_VOCAB else f"{vocab_name}_model"


def _write_outputs(vocab: List[str], directory: str, vocab_name: str = features.WORDPIECE_VOCAB) -> Tuple[str, str]:
    # Fixed file names: tft_output.vocabulary_file_by_name(vocab_name) finds assets by file name.
    vocab_path = tokenizer.write_vocabulary(vocab, os.path.join(directory, vocab_name))
    model_path = os.path.join(directory, model_file(vocab_name))
    with tf.io.gfile.GFile(model_path, "wb") as f:
        f.write(tokenizer.compile_vocabulary(vocab))
    return vocab_path, model_path
