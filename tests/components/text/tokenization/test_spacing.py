"""Space marks make word pieces reversible: placeholders, punctuation and CJK text come back exactly as written."""
import pytest
import tensorflow as tf

from components.core import features
from components.text.tokenization import spacing, tokenizer, wordpiece_learner
from components.text.tokenization.detokenizer import join_marked

TEXTS = ["Datei %s konnte nicht geöffnet werden: %1$s", "Fehler in Zeile %d von »%s«.", "{0} Dateien, %-10s: %.*s",
         "无法打开文件 “%s”：%s", "已删除 %d 个文件。", "Press _File or &Open (Ctrl+O)...", "%S ist nicht %s",
         "Datei %s nicht gefunden", "Datei konnte nicht gelesen werden"]


@pytest.fixture(scope="module")
def vocabulary():
    marked = [t.decode() for t in spacing.mark_spaces(tf.constant(TEXTS)).numpy()]
    return wordpiece_learner.learn_vocabulary(marked, vocab_size=400, lowercase=False, min_word_count=1)


def _round_trip(texts, vocabulary):
    encoder = tokenizer.Encoder.from_vocabulary(vocabulary, lowercase=False, max_seq_length=128)
    pieces = encoder.wordpieces(spacing.mark_spaces(tf.constant(texts))).to_tensor()
    return [t.decode() for t in join_marked(pieces, tf.constant(vocabulary)).numpy()]


def test_placeholders_punctuation_and_case_come_back_exactly(vocabulary):
    assert _round_trip(TEXTS, vocabulary) == TEXTS


def test_unseen_combinations_of_known_pieces_come_back_too(vocabulary):
    texts = ["%1$s: Datei »%d« nicht geöffnet", "{0}{1} %s%s", "文件 %s 已删除"]
    assert _round_trip(texts, vocabulary) == texts


def test_whitespace_runs_read_as_one_space(vocabulary):
    assert _round_trip(["  Datei\t%s \u3000 nicht  "], vocabulary) == ["Datei %s nicht"]


def test_cjk_is_split_into_characters_as_bert_splits_it():
    words = tokenizer.split_words(spacing.mark_spaces(tf.constant(["无法打开文件abc“%s”"])), lowercase=False)
    assert [w.decode() for w in words.to_list()[0]] == ["无", "法", "打", "开", "文", "件", "abc", "“", "%", "s", "”"]


def test_marks_join_the_next_word_and_stand_alone_before_punctuation():
    words = tokenizer.split_words(spacing.mark_spaces(tf.constant(["Datei %s nicht"])), lowercase=False)
    assert [w.decode() for w in words.to_list()[0]] == ["Datei", "▁", "%", "s", "▁nicht"]


def test_special_tokens_are_dropped_and_unknown_words_stay_visible(vocabulary):
    ids = [[vocabulary.index(p) for p in ["[CLS]", "Datei", "▁", "%", "s", "[SEP]", "[PAD]"]] + [1]]
    ids[0][-1] = features.SPECIAL_TOKENS.index(features.UNK)
    assert join_marked(tf.constant(ids), tf.constant(vocabulary)).numpy()[0].decode() == "Datei %s[UNK]"
