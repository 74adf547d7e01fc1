"""The plain-Python learner: the same core Transform runs in Beam."""
import collections

import pytest
import tensorflow as tf

from components.core import features
from components.core.errors import UserError
from components.text.tokenization import tokenizer, wordpiece_learner

TEXTS = ["The movie was great!", "The film was bad.", "A great film, a great cast.",
         "Bad acting; the movie was boring.", "Great great movie", "the worst film, zany"]


# What TEXTS teach with vocab_size=60, min_word_count=2 (tests/components/tfx/test_transform.py expects the same from Beam).
GOLDEN_VOCAB = list(features.SPECIAL_TOKENS) + [
    ",", ".", "a", "b", "d", "e", "f", "g", "h", "i", "l", "m", "o", "r", "s", "t", "v", "w",
    "great", "the", "film", "movie", "was", "bad",
    "##,", "##.", "##a", "##b", "##d", "##e", "##f", "##g", "##h", "##i", "##l", "##m", "##o", "##r", "##s",
    "##t", "##v", "##w"]


def test_learns_specials_first_then_characters_then_frequent_words():
    vocab = wordpiece_learner.learn_vocabulary(TEXTS, vocab_size=60, lowercase=True, min_word_count=2)
    assert vocab == GOLDEN_VOCAB


def test_caps_the_size_at_vocab_size():
    vocab = wordpiece_learner.learn_vocabulary(TEXTS, vocab_size=16, lowercase=True, min_word_count=1)
    assert len(vocab) == 16
    assert vocab[:5] == list(features.SPECIAL_TOKENS) and vocab.index(features.PAD) == 0


def test_rare_words_do_not_shape_the_vocabulary():
    vocab = wordpiece_learner.learn_vocabulary({"common": 5, "rare": 1}, vocab_size=50, min_word_count=2)
    assert "common" in vocab and not {"r", "##r"} & set(vocab)


def test_word_counts_and_texts_share_one_core():
    words = tokenizer.split_words(tf.constant(TEXTS), lowercase=True).flat_values.numpy().tolist()
    counts = collections.Counter(word.decode("utf-8") for word in words)
    assert (wordpiece_learner.learn_vocabulary(counts, vocab_size=60, min_word_count=2)
            == wordpiece_learner.learn_vocabulary(TEXTS, vocab_size=60, min_word_count=2))


def test_no_frequent_word_is_a_user_error():
    with pytest.raises(UserError, match="min_word_count"):
        wordpiece_learner.learn_vocabulary(["one two three"], vocab_size=50, min_word_count=2)


def test_learned_vocabulary_compiles_and_encodes():
    vocab = wordpiece_learner.learn_vocabulary(TEXTS, vocab_size=60, lowercase=True, min_word_count=2)
    ids = tokenizer.Encoder.from_vocabulary(vocab, lowercase=True, max_seq_length=8).encode(
        tf.constant(["Great films, zany"]))[features.TOKEN_IDS]
    assert [vocab[i] for i in ids.numpy()[0]] == ["[CLS]", "great", "film", "##s", ",", "[UNK]", "[SEP]", "[PAD]"]
