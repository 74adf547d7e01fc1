"""What a served causal LM prints: word pieces glued, specials hidden, punctuation and apostrophes as written."""
import tensorflow as tf

from components.core import features
from components.text.tokenization.detokenizer import detokenize

VOCABULARY = list(features.SPECIAL_TOKENS) + ["i", "'", "ll", "go", "##ne", "don", "t", ",", "sir", ".", "tis", "o"]


def _text(pieces):
    ids = [[VOCABULARY.index(p) for p in pieces]]
    return detokenize(tf.constant(ids), tf.constant(VOCABULARY)).numpy()[0].decode()


def test_pieces_join_into_words_and_specials_are_hidden():
    assert _text(["[CLS]", "go", "##ne", "[PAD]", ",", "sir", "."]) == "gone, sir."


def test_the_document_separator_is_a_line_break():
    assert _text(["sir", ".", "[SEP]", "go", "."]) == "sir.\ngo."


def test_apostrophes_inside_words_close_up_and_others_stay():
    assert _text(["i", "'", "ll", "go", ",", "don", "'", "t", "."]) == "i'll go, don't."
    assert _text(["'", "tis", "o", "'", "go"]) == "' tis o'go"
