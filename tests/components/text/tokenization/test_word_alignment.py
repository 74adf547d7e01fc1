"""Golden word -> word-piece alignment: first-piece tags, whole-word truncation, [UNK] for empty words, all pieces."""
import pytest
import tensorflow as tf

from components.core import features
from components.core.errors import UserError
from components.core.features import IGNORE_TAG as X
from components.text import word_shapes
from components.text.tokenization import tokenizer, word_alignment

VOCAB = list(features.SPECIAL_TOKENS) + ["zoe", "visited", "sao", "paulo", "new", "york", "##er", "##s", "u", ".",
                                         "s", "in"]
TAGS = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]  # sorted, as Transform's tag vocabulary is
B_LOC, B_PER, I_LOC, I_PER, O = range(5)


def encode(words, tags, max_seq_length=10):
    encoder = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=max_seq_length)
    tag_ids = tf.ragged.constant(tags, dtype=tf.int64)
    words = tf.ragged.constant(words)
    shapes = words.with_flat_values(word_shapes.classify(words.flat_values))
    out = word_alignment.encode_words(encoder.wordpieces(words), max_seq_length, tag_ids, shapes)
    return {name: value.numpy().tolist() for name, value in out.items()}


def pieces(token_ids):
    return [[VOCAB[i] for i in row] for row in token_ids]


def test_the_tag_goes_on_the_first_piece_of_each_word():
    out = encode([["Zoë", "visited", "New", "Yorkers"]], [[B_PER, O, B_LOC, I_LOC]])
    assert pieces(out[features.TOKEN_IDS]) == [
        ["[CLS]", "zoe", "visited", "new", "york", "##er", "##s", "[SEP]", "[PAD]", "[PAD]"]]
    assert out[features.TAG_IDS] == [[X, B_PER, O, B_LOC, I_LOC, X, X, X, X, X]]
    assert out[features.TAG_MASK] == [[0, 1, 1, 1, 1, 0, 0, 0, 0, 0]]
    assert out[features.PADDING_MASK] == [[1] * 8 + [0] * 2]
    assert out[features.SEGMENT_IDS] == [[0] * 10]


def test_truncation_keeps_whole_words_only():
    # 8 pieces fit between [CLS] and [SEP]: "U.S." (4 pieces) would end at 9, so it goes with everything after it.
    out = encode([["Zoë", "visited", "New", "Yorkers", "in", "U.S.", "in"]], [[B_PER, O, B_LOC, I_LOC, O, B_LOC, O]])
    assert pieces(out[features.TOKEN_IDS]) == [
        ["[CLS]", "zoe", "visited", "new", "york", "##er", "##s", "in", "[SEP]", "[PAD]"]]
    assert out[features.TAG_IDS] == [[X, B_PER, O, B_LOC, I_LOC, X, X, O, X, X]]
    assert sum(out[features.TAG_MASK][0]) == 5  # the 5 words kept, each tagged once
    assert (out[features.NUM_PIECES], out[features.CUT_PIECES]) == ([12], [5])  # for the run report's data view
    cap, low = word_shapes.CAPITALIZED, word_shapes.LOWERCASE  # of the words as written: the pieces are lowercased
    assert out[features.WORD_SHAPES] == [[0, cap, low, cap, cap, cap, cap, low, 0, 0]]  # every piece of a kept word


def test_a_word_longer_than_the_budget_empties_the_sentence():
    out = encode([["Yorkers", "in"]], [[B_LOC, O]], max_seq_length=4)
    assert pieces(out[features.TOKEN_IDS]) == [["[CLS]", "[SEP]", "[PAD]", "[PAD]"]]
    assert out[features.TAG_IDS] == [[X] * 4] and out[features.TAG_MASK] == [[0] * 4]


def test_words_without_pieces_become_unk_and_unknown_tags_are_ignored():
    out = encode([["S\u00e3o", "\u200b", "Paulo"], []], [[B_LOC, O, -1], []])
    assert pieces(out[features.TOKEN_IDS]) == [
        ["[CLS]", "sao", "[UNK]", "paulo", "[SEP]"] + ["[PAD]"] * 5, ["[CLS]", "[SEP]"] + ["[PAD]"] * 8]
    assert out[features.TAG_IDS] == [[X, B_LOC, O, X] + [X] * 6, [X] * 10]
    assert out[features.TAG_MASK] == [[0, 1, 1, 1] + [0] * 6, [0] * 10]


def test_label_all_pieces_continues_each_words_tag():
    out = encode([["New", "Yorkers", "visited", "Yorkers"]], [[B_LOC, I_LOC, O, -1]])
    continuation = word_alignment.continuation_tags(TAGS)
    assert continuation == [I_LOC, I_PER, I_LOC, I_PER, O]
    labels = word_alignment.label_all_pieces(tf.constant(out[features.TAG_IDS]), tf.constant(out[features.TAG_MASK]),
                                             tf.constant(out[features.PADDING_MASK]), continuation)
    assert pieces(out[features.TOKEN_IDS])[0][:10] == [
        "[CLS]", "new", "york", "##er", "##s", "visited", "york", "##er", "##s", "[SEP]"]
    assert labels.numpy().tolist() == [[X, B_LOC, I_LOC, I_LOC, I_LOC, O, X, X, X, X]]


def test_label_all_pieces_needs_bio_tags():
    assert word_alignment.continuation_tags(["B-X", "O"]) == [X, 1]  # no I-X to continue with
    with pytest.raises(UserError, match="needs BIO tags.*'E-PER'"):
        word_alignment.continuation_tags(["B-PER", "E-PER", "O"])
