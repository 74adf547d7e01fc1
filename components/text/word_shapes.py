"""A word's shape: whether it is capitalized, all capitals, lowercase, caseless letters, a number or symbols.

The tagger's cue for names it has never seen: WNUT-17's dev and test entities never occur in its training data, but
three in four are capitalized against one word in six overall. A word-piece embedding carries case only for pieces
training has seen; the shape carries it for every word. Read from the word as written (before any lowercasing),
with Unicode classes, so "École" is capitalized and "北京" caseless.
"""
import tensorflow as tf

NONE, ALL_CAPITALS, CAPITALIZED, LOWERCASE, CASELESS, NUMBER, SYMBOLS = range(7)  # NONE: [CLS], [SEP], padding
COUNT = SYMBOLS + 1
# (shape, pattern) in order: the first full match is the word's shape; SYMBOLS (punctuation, emoji) when none does.
_PATTERNS = (
    (ALL_CAPITALS, r"\P{L}*\p{Lu}(\P{L}*\p{Lu})+\P{L}*"),  # at least two letters: NASA, U.S.
    (CAPITALIZED, r"\P{L}*\p{Lu}.*"),  # the first letter: Paris, @Bob, I
    (LOWERCASE, r"\P{L}*\p{Ll}.*"),  # the first letter: hello, iPhone, #tbt
    (CASELESS, r"\P{L}*\p{L}.*"),  # letters without case: 北京
    (NUMBER, r".*\p{N}.*"),  # digits, no letters: 2017, 3:30
)


def classify(words: tf.Tensor) -> tf.Tensor:
    """int64 shape ids of string `words` (any shape)."""
    shape = tf.fill(tf.shape(words), tf.constant(SYMBOLS, tf.int64))
    for shape_id, pattern in reversed(_PATTERNS):  # the first pattern in order is written last, so it wins
        shape = tf.where(tf.strings.regex_full_match(words, pattern), tf.constant(shape_id, tf.int64), shape)
    return shape
