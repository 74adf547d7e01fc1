"""Golden token ids, masks and truncation for the graph-mode encoder."""
import pytest
import tensorflow as tf

from components.core import features
from components.text.tokenization import tokenizer

VOCAB = list(features.SPECIAL_TOKENS) + [
    "the", "movie", "was", "great", "bad", "film", "play", "##ing", "##s", "cafe", "!", ",", ".", "'", "a", "t",
    "don", "wonder", "##ful", "act", "##or", "x", "##y", "##z", "c"]


def _tokens(ids):
    return [[VOCAB[i] for i in row] for row in ids.numpy().tolist()]


def test_vocabulary_has_about_thirty_tokens_with_specials_first():
    assert len(VOCAB) == 30 and VOCAB.index(features.PAD) == tokenizer.PAD_ID == 0


def test_encodes_cls_text_sep_then_padding():
    encoded = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=8).encode(
        tf.constant(["The movie was GREAT!", ""]))
    assert encoded[features.TOKEN_IDS].numpy().tolist() == [[2, 5, 6, 7, 8, 15, 3, 0], [2, 3, 0, 0, 0, 0, 0, 0]]
    assert _tokens(encoded[features.TOKEN_IDS])[0] == [
        "[CLS]", "the", "movie", "was", "great", "!", "[SEP]", "[PAD]"]
    assert encoded[features.PADDING_MASK].numpy().tolist() == [[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0, 0, 0]]
    assert encoded[features.SEGMENT_IDS].numpy().tolist() == [[0] * 8, [0] * 8]


def test_truncates_wordpieces_but_keeps_sep():
    encoded = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=8).encode(
        tf.constant(["Playing films, the movie was bad"]))
    assert _tokens(encoded[features.TOKEN_IDS]) == [
        ["[CLS]", "play", "##ing", "film", "##s", ",", "the", "[SEP]"]]
    assert encoded[features.PADDING_MASK].numpy().tolist() == [[1] * 8]


def test_piece_counts_say_how_much_truncation_cut():
    encoder = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=8)
    texts = tf.constant(["Playing films, the movie was bad", "the movie"])
    counts = tokenizer.piece_counts(encoder.segments(texts), encoder.encode(texts)[features.PADDING_MASK])
    assert counts[features.NUM_PIECES].numpy().tolist() == [9, 2]
    assert counts[features.CUT_PIECES].numpy().tolist() == [3, 0]  # 6 pieces fit between [CLS] and [SEP]
    pairs = tf.constant(["the movie", "bad"])  # a pair: [CLS] a [SEP] b [SEP] leaves 5 pieces to share
    counts = tokenizer.piece_counts(encoder.segments(texts, pairs), encoder.encode(texts, pairs)[features.PADDING_MASK])
    assert counts[features.NUM_PIECES].numpy().tolist() == [11, 3]
    assert counts[features.CUT_PIECES].numpy().tolist() == [6, 0]


def test_unknown_words_and_accents():
    texts = tf.constant(["Café xyz wonderful, don't qq"])
    lowercased = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=13).encode(texts)
    assert _tokens(lowercased[features.TOKEN_IDS]) == [
        ["[CLS]", "cafe", "x", "##y", "##z", "wonder", "##ful", ",", "don", "'", "t", "[UNK]", "[SEP]"]]
    cased = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=False, max_seq_length=5).encode(texts)
    assert _tokens(cased[features.TOKEN_IDS]) == [["[CLS]", "[UNK]", "x", "##y", "[SEP]"]]


def test_graph_mode_gives_fixed_length_int64(tmp_path):
    path = tokenizer.write_vocabulary(VOCAB, str(tmp_path / "vocab" / "wordpiece_vocab"))
    assert tokenizer.read_vocabulary(path) == VOCAB
    encoder = tokenizer.Encoder.from_vocabulary(path, lowercase=True, max_seq_length=6)
    encode = tf.function(encoder.encode, input_signature=[tf.TensorSpec([None], tf.string)])
    concrete = encode.get_concrete_function()
    for name in features.MODEL_INPUTS:
        assert concrete.structured_outputs[name].shape.as_list() == [None, 6]
        assert concrete.structured_outputs[name].dtype == tf.int64
    assert encode(tf.constant(["a bad film"]))[features.TOKEN_IDS].numpy().tolist() == [[2, 19, 9, 10, 3, 0]]


def test_rejects_a_vocabulary_without_special_tokens_first():
    with pytest.raises(ValueError, match="must start with"):
        tokenizer.compile_vocabulary(["the", "movie"] + VOCAB)


def test_split_words_matches_the_encoders_word_boundaries():
    words = tokenizer.split_words(tf.constant(["Héllo, World! don't", "  "]), lowercase=True)
    assert words.to_list() == [[b"hello", b",", b"world", b"!", b"don", b"'", b"t"], []]
    cased = tokenizer.split_words(tf.constant(["Héllo"]), lowercase=False)
    assert cased.to_list() == [["Héllo".encode("utf-8")]]


# Chinese is split into one word per ideograph before WordPiece, as BERT's tokenizer does (its _tokenize_chinese_chars),
# while Latin letters, digits and kana stay whole words; lowercasing also case-folds full-width forms ("，" -> ",").
CHINESE_VOCAB = list(features.SPECIAL_TOKENS) + [
    "我", "爱", "模", "型", "年", "了", "次", "北", "京", "be", "##rt", "20", "##24", "3", ",", "。", "!"]


def _chinese(ids):
    return [[CHINESE_VOCAB[i] for i in row if i] for row in ids.numpy().tolist()]


def test_chinese_is_split_into_characters_before_wordpiece():
    encoder = tokenizer.Encoder.from_vocabulary(CHINESE_VOCAB, lowercase=True, max_seq_length=20)
    encoded = encoder.encode(tf.constant(["我爱BERT模型，2024年用了3次。", "北京！ かな"]))
    assert encoded[features.TOKEN_IDS].numpy().tolist()[0] == [
        2, 5, 6, 14, 15, 7, 8, 19, 16, 17, 9, 1, 10, 18, 11, 20, 3, 0, 0, 0]
    assert _chinese(encoded[features.TOKEN_IDS]) == [
        ["[CLS]", "我", "爱", "be", "##rt", "模", "型", ",", "20", "##24", "年", "[UNK]", "了", "3", "次", "。", "[SEP]"],
        ["[CLS]", "北", "京", "!", "[UNK]", "[SEP]"]]  # full-width "！" folds to "!"; "かな" is one (unknown) word


def test_a_pair_is_cls_a_sep_b_sep_with_segment_ids():
    encoder = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=10)
    encoded = encoder.encode(tf.constant(["The movie", "great"]), tf.constant(["was bad", ""]))
    assert encoded[features.TOKEN_IDS].numpy().tolist() == [[2, 5, 6, 3, 7, 9, 3, 0, 0, 0],
                                                             [2, 8, 3, 3, 0, 0, 0, 0, 0, 0]]
    assert encoded[features.SEGMENT_IDS].numpy().tolist() == [[0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
                                                               [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]]
    assert encoded[features.PADDING_MASK].numpy().tolist() == [[1] * 7 + [0] * 3, [1] * 4 + [0] * 6]


@pytest.mark.parametrize("first, second, kept", [
    ("the movie was great", "bad", ([5, 6, 7], [9])),  # the short segment stays whole, the long one is cut
    ("bad", "the movie was great", ([9], [5, 6, 7])),
    ("the movie was great", "a bad film play", ([5, 6], [19, 9])),  # both long: the budget is shared, A first
    ("the movie was", "a bad film play", ([5, 6], [19, 9])),
])
def test_a_pair_is_truncated_longest_first_as_bert_does(first, second, kept):
    encoded = tokenizer.Encoder.from_vocabulary(VOCAB, lowercase=True, max_seq_length=7).encode(
        tf.constant([first]), tf.constant([second]))
    a, b = kept
    assert encoded[features.TOKEN_IDS].numpy().tolist() == [[2, *a, 3, *b, 3]]
    assert encoded[features.SEGMENT_IDS].numpy().tolist() == [[0] * (len(a) + 2) + [1] * (len(b) + 1)]
