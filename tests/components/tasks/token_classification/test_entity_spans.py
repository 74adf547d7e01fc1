"""Entities from word tags in graph ops: seqeval's chunks, offsets into the original text, valid JSON."""
import json

import numpy as np
import tensorflow as tf

from components.nn.metrics.entities import extract_entities
from components.tasks.token_classification.entity_spans import EntityChunker, to_json
from components.text.tokenization import tokenizer

# BIO and BIOES mixed, so random draws hold invalid sequences too (I- after O, E- without B-, type changes).
TAGS = ["B-LOC", "B-PER", "E-PER", "I-LOC", "I-PER", "O", "S-PER"]


def test_chunks_match_seqeval_on_random_tag_sequences():
    rng = np.random.default_rng(0)
    sequences = [rng.integers(0, len(TAGS), rng.integers(0, 9)).tolist() for _ in range(300)]
    tags = tf.ragged.constant(sequences, dtype=tf.int64, ragged_rank=1)
    confidence = tf.ragged.map_flat_values(lambda t: tf.cast(t, tf.float32) / 10.0, tags)
    spans = EntityChunker(TAGS).spans(tags, confidence)
    found = [[] for _ in sequences]
    for row, first, end, entity_type, score in zip(*(t.numpy() for t in spans)):
        found[row].append((entity_type.decode(), first, end))
        assert score == np.float32(np.mean(np.array(sequences[row][first:end], np.float32) / 10.0))
    assert found == [extract_entities([TAGS[t] for t in seq]) for seq in sequences]


def entities(texts, word_tags, lowercase=True):
    """The serving path from raw texts to JSON, with the words' tags given."""
    texts = tf.constant(texts)
    words, starts, ends = tokenizer.split_words_with_offsets(texts, lowercase)
    tags = tf.ragged.constant([[TAGS.index(t) for t in row] for row in word_tags], dtype=tf.int64,
                              row_splits_dtype=words.row_splits.dtype)
    assert tags.row_lengths().numpy().tolist() == words.row_lengths().numpy().tolist()
    spans = EntityChunker(TAGS).spans(tags, tf.ones_like(tags, tf.float32))
    word = tf.gather(starts.row_starts(), spans.rows) + spans.first_word
    last = tf.gather(starts.row_starts(), spans.rows) + spans.end_word - 1
    out = to_json(texts, spans.rows, tf.gather(starts.flat_values, word), tf.gather(ends.flat_values, last),
                  spans.types, spans.scores)
    return [json.loads(doc.decode("utf-8")) for doc in out.numpy()]


def test_offsets_index_the_original_string_including_non_ascii():
    texts = ["Zoë visited São Paulo!", "", "ÉCOLE in Zürich ok", "e\u0301te\u0301 à Montréal"]
    result = entities(texts, [["B-PER", "O", "B-LOC", "I-LOC", "O"], [], ["S-PER", "O", "B-LOC", "O"],
                              ["B-PER", "O", "B-LOC"]])
    assert result == [
        [{"text": "Zoë", "type": "PER", "start": 0, "end": 3, "score": 1.0},
         {"text": "São Paulo", "type": "LOC", "start": 12, "end": 21, "score": 1.0}],
        [],
        [{"text": "ÉCOLE", "type": "PER", "start": 0, "end": 5, "score": 1.0},
         {"text": "Zürich", "type": "LOC", "start": 9, "end": 15, "score": 1.0}],
        [{"text": "e\u0301te\u0301", "type": "PER", "start": 0, "end": 5, "score": 1.0},  # NFD input: 5 code points
         {"text": "Montréal", "type": "LOC", "start": 8, "end": 16, "score": 1.0}]]
    for text, found in zip(texts, result):
        assert all(text[e["start"]:e["end"]] == e["text"] for e in found)


def test_entity_text_is_escaped_into_valid_json():
    text = 'Ann "Al\\"\tSmith\nJr'  # words: Ann " Al \ " Smith Jr
    (found,) = entities([text], [["B-PER", "I-PER", "I-PER", "I-PER", "I-PER", "I-PER", "I-PER"]], lowercase=False)
    assert found == [{"text": text, "type": "PER", "start": 0, "end": len(text), "score": 1.0}]


def test_split_words_with_offsets_agrees_with_split_words():
    texts = tf.constant(["Zoë visited São Paulo!", "  ÉCOLE,\tZürich  ", "日本語 text"])
    words, starts, ends = tokenizer.split_words_with_offsets(texts, lowercase=True)
    normalized = tokenizer.split_words(texts, lowercase=True)
    renormalized = tokenizer.split_words(words.flat_values, lowercase=True).flat_values
    assert renormalized.numpy().tolist() == normalized.flat_values.numpy().tolist()
    originals = [t.decode() for t in texts.numpy()]
    byte_words = [[o.encode()[s:e].decode() for s, e in zip(ss, ee)]
                  for o, ss, ee in zip(originals, starts.to_list(), ends.to_list())]
    assert byte_words == [[w.decode() for w in row] for row in words.to_list()] == [
        ["Zoë", "visited", "São", "Paulo", "!"], ["ÉCOLE", ",", "Zürich"], ["日", "本", "語", "text"]]
