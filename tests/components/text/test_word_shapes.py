import tensorflow as tf

from components.text import word_shapes as s


def test_shapes_of_words_as_written_in_any_script():
    words = {"NASA": s.ALL_CAPITALS, "U.S.": s.ALL_CAPITALS, "ÉCOLE": s.ALL_CAPITALS, "Paris": s.CAPITALIZED,
             "@Bob": s.CAPITALIZED, "I": s.CAPITALIZED, "École": s.CAPITALIZED, "hello": s.LOWERCASE,
             "iPhone": s.LOWERCASE, "#tbt": s.LOWERCASE, "été": s.LOWERCASE, "北京": s.CASELESS, "2017": s.NUMBER,
             "3:30": s.NUMBER, "...": s.SYMBOLS, "🙂": s.SYMBOLS, "": s.SYMBOLS}
    shapes = s.classify(tf.constant([list(words)]))  # any shape: here (1, N)
    assert shapes.dtype == tf.int64 and shapes.numpy().tolist() == [list(words.values())]
