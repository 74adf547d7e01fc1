"""Graph-mode WordPiece encoding into the inputs a keras-hub BERT backbone takes.

One set of ops everywhere: Transform, benchmarks and (through the Transform graph) serving all run
FastBertNormalizer (lowercase + NFD + accent strip when asked) then FastWordpieceTokenizer (split on whitespace and
punctuation, and around every CJK ideograph as BERT does for Chinese, then greedy longest-match WordPiece). The
learner splits words with the same two ops (`split_words`), so the vocabulary is learned on exactly the words the
encoder will see.

FastWordpieceTokenizer needs its vocabulary compiled into a flatbuffer model; `compile_vocabulary` does that in
Python, and `Encoder` also takes the compiled model as a scalar tf.string tensor (as Transform reads it from its
asset).
"""
import os
from typing import Dict, List, Optional, Sequence, Union

import tensorflow as tf
import tensorflow_text as text
# The builder FastWordpieceTokenizer itself calls; used directly so a model can be passed around as bytes.
from tensorflow_text.core.pybinds import pywrap_fast_wordpiece_tokenizer_model_builder as _model_builder

from components.core import features

SUFFIX_INDICATOR = "##"
MAX_BYTES_PER_WORD = 100  # longer words become [UNK]
PAD_ID, CLS_ID, SEP_ID = (features.SPECIAL_TOKENS.index(t) for t in (features.PAD, features.CLS, features.SEP))


def read_vocabulary(path: str) -> List[str]:
    """Tokens of a vocabulary file, one per line (split on '\\n' only: tokens may hold other line separators)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        return f.read().decode("utf-8").split("\n")[:-1]


def write_vocabulary(tokens: Sequence[str], path: str) -> str:
    """Writes `tokens` one per line, the format tft and TextFileInitializer read; returns `path`."""
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write("".join(f"{token}\n" for token in tokens).encode("utf-8"))
    return path


def compile_vocabulary(vocab: Union[str, Sequence[str]]) -> bytes:
    """Compiles a vocabulary (file path or token list, special tokens first) into a FastWordpiece model."""
    tokens = read_vocabulary(vocab) if isinstance(vocab, str) else list(vocab)
    if tuple(tokens[:len(features.SPECIAL_TOKENS)]) != features.SPECIAL_TOKENS:
        raise ValueError(f"a vocabulary must start with {features.SPECIAL_TOKENS}, got {tokens[:5]}")
    return _model_builder.build_fast_wordpiece_model(
        tokens, MAX_BYTES_PER_WORD, SUFFIX_INDICATOR, features.UNK, False, False)


def split_words(texts: tf.Tensor, lowercase: bool) -> tf.RaggedTensor:
    """[B] texts -> [B, (words)] normalised words, exactly as the encoder's WordPiece step splits them.

    A vocabulary that matches nothing turns every word into one [UNK] spanning the whole word, so its offsets are
    the word boundaries of FastWordpieceTokenizer's own pre-tokenizer (BERT's: whitespace, punctuation, CJK).
    """
    normalized = text.FastBertNormalizer(lower_case_nfd_strip_accents=lowercase).normalize(texts)
    starts, ends = _word_boundaries(normalized)
    return _substrings(normalized, starts, ends)


def split_words_with_offsets(texts: tf.Tensor, lowercase: bool):
    """[B] texts -> (words, starts, ends), each [B, (words)]: the words of `split_words`, but as substrings of the
    ORIGINAL texts, with their byte offsets there (end exclusive), so that tags map back to what the caller sent.

    Normalizing changes lengths ("ë" is 2 bytes, "e" 1; NFD adds combining marks); FastBertNormalizer's offsets map
    each normalized position back to the original one.
    """
    normalized, offsets = text.FastBertNormalizer(lower_case_nfd_strip_accents=lowercase).normalize_with_offsets(
        texts)
    starts, ends = _word_boundaries(normalized)
    first_offset = tf.gather(offsets.row_starts(), starts.value_rowids())  # where each word's text's offsets start

    def to_original(positions: tf.RaggedTensor) -> tf.RaggedTensor:
        return positions.with_flat_values(tf.gather(offsets.values, first_offset + positions.flat_values))

    starts, ends = to_original(starts), to_original(ends)
    return _substrings(texts, starts, ends), starts, ends


def _word_boundaries(normalized: tf.Tensor):
    """Byte offsets (starts, ends) [B, (words)] of the words in normalized texts [B]."""
    # "##x" is a suffix-only token: it can never start a word, so nothing matches (the builder needs one token).
    boundaries = text.FastWordpieceTokenizer([features.UNK, SUFFIX_INDICATOR + "x"], unknown_token=features.UNK)
    _, starts, ends = boundaries.tokenize_with_offsets(normalized)
    return starts, ends


def _substrings(texts: tf.Tensor, starts: tf.RaggedTensor, ends: tf.RaggedTensor) -> tf.RaggedTensor:
    words = tf.strings.substr(tf.gather(texts, starts.value_rowids()), starts.flat_values,
                              ends.flat_values - starts.flat_values)
    return starts.with_flat_values(words)


class Encoder:
    """texts [B] (and pairs [B]) -> {token_ids, padding_mask, segment_ids}: int64 [B, max_seq_length] each.

    Layout: [CLS] wordpieces [SEP] (pair wordpieces [SEP]), truncated as `model_inputs` says, then [PAD]=0 up to
    max_seq_length. padding_mask is 1 on real tokens and 0 on padding; segment_ids are 0 on the first text and its
    [CLS]/[SEP], 1 on the pair and its [SEP]. int64 because that is what Transform writes as FixedLenFeature;
    keras-hub backbones accept it as is.
    """

    def __init__(self, model: Union[bytes, tf.Tensor], lowercase: bool, max_seq_length: int):
        """`model`: a compiled vocabulary (`compile_vocabulary`), as bytes or a scalar tf.string tensor."""
        self._normalizer = text.FastBertNormalizer(lower_case_nfd_strip_accents=lowercase)
        self._wordpiece = text.FastWordpieceTokenizer(model_buffer=tf.io.decode_raw(model, tf.uint8),
                                                      token_out_type=tf.int64)
        self._max_seq_length = max_seq_length

    @classmethod
    def from_vocabulary(cls, vocab: Union[str, Sequence[str]], lowercase: bool, max_seq_length: int) -> "Encoder":
        return cls(compile_vocabulary(vocab), lowercase, max_seq_length)

    def encode(self, texts: tf.Tensor, pairs: Optional[tf.Tensor] = None) -> Dict[str, tf.Tensor]:
        """`pairs` [B]: the second text of each sentence pair (NLI's hypothesis, a question's passage)."""
        return model_inputs(self.segments(texts, pairs), self._max_seq_length)

    def segments(self, texts: tf.Tensor, pairs: Optional[tf.Tensor] = None) -> List[tf.RaggedTensor]:
        """The word pieces [B, (P)] of each text, and of each pair's second text: what `model_inputs` packs."""
        return [self.wordpieces(segment) for segment in ([texts] if pairs is None else [texts, pairs])]

    def wordpieces(self, texts) -> tf.RaggedTensor:
        """Word-piece ids, one ragged dimension more than `texts`: [B] -> [B, (P)], words [B, (W)] -> [B, (W), (P)]."""
        return self._wordpiece.tokenize(self._normalizer.normalize(texts))


def piece_counts(pieces: Union[tf.RaggedTensor, Sequence[tf.RaggedTensor]], padding_mask: tf.Tensor
                 ) -> Dict[str, tf.Tensor]:
    """Pieces [B, (P)] or [B, (W), (P)] (or a pair's two segments) and the padding_mask they were encoded with ->
    NUM_PIECES (pieces before truncation) and CUT_PIECES (pieces truncation dropped), int64 [B]: what the run
    report's data view shows."""
    segments = list(pieces) if isinstance(pieces, (list, tuple)) else [pieces]
    total = tf.add_n([tf.cast(segment.merge_dims(1, -1).row_lengths(), tf.int64) for segment in segments])
    specials = len(segments) + 1  # [CLS] and each segment's [SEP] are not the text's
    kept = tf.reduce_sum(tf.cast(padding_mask, tf.int64), axis=1) - specials
    return {features.NUM_PIECES: total, features.CUT_PIECES: total - kept}


def model_inputs(wordpieces: Union[tf.RaggedTensor, Sequence[tf.RaggedTensor]], max_seq_length: int
                 ) -> Dict[str, tf.Tensor]:
    """[B, (pieces)] ids -> the Encoder's outputs: [CLS] pieces [SEP] [PAD]...

    A list of segments [A, B] packs pairs, [CLS] A [SEP] B [SEP], with segment_ids 0 on A and 1 on B.
    Truncation is BERT's (`truncate_seq_pair`: drop the last piece of the longer segment until the pair fits, A
    keeping the extra piece on a tie), which is what a round-robin allocation of the budget gives: a short segment
    stays whole and the long one gets the rest. A single segment keeps its first max_seq_length - 2 pieces.
    """
    segments = list(wordpieces) if isinstance(wordpieces, (list, tuple)) else [wordpieces]
    segments = text.RoundRobinTrimmer(max_seq_length - len(segments) - 1).trim(segments)
    ids, segments = text.combine_segments(segments, start_of_sequence_id=CLS_ID, end_of_segment_id=SEP_ID)
    token_ids, padding_mask = text.pad_model_inputs(ids, max_seq_length, pad_value=PAD_ID)
    segment_ids, _ = text.pad_model_inputs(segments, max_seq_length, pad_value=0)
    return {features.TOKEN_IDS: token_ids, features.PADDING_MASK: padding_mask, features.SEGMENT_IDS: segment_ids}
