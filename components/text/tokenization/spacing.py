"""Reversible word pieces for text that is generated, not only read (translation targets): where the spaces were.

BERT's pre-tokenizer splits words at whitespace, at every punctuation character and around every CJK character, and
forgets which of those splits had a space: "%s" and "% s", "Datei:" and "Datei :" read the same. A generated text
must come back exactly, placeholders such as %s, %1$s or {0} included. So before tokenizing, each run of whitespace
becomes one space and a mark, SPACE_MARK (U+2581, as SentencePiece writes it), that the next word carries:
"Datei %s nicht" reads "Datei ▁%s ▁nicht", whose words are Datei, ▁, %, s, ▁nicht (the mark is neither
punctuation nor CJK, so it joins a following letter and stands alone before punctuation). Joining the pieces
without spaces and turning each mark back into a space restores the text; CJK text keeps its characters apart for
WordPiece exactly as BERT splits them, and comes back without spaces where it had none.

The vocabulary is learned on marked text, so it holds both "▁nicht" (after a space) and "nicht" (after a bracket):
the same trade SentencePiece makes. What normalization changes (tokenizer.lowercase, control characters) and words
the vocabulary cannot spell ([UNK]) do not come back.
"""
import tensorflow as tf

SPACE_MARK = "\u2581"


def mark_spaces(texts: tf.Tensor) -> tf.Tensor:
    """[B] texts -> [B] texts with surrounding whitespace removed and each inner whitespace run as " ▁"."""
    return tf.strings.regex_replace(tf.strings.strip(texts), r"[\s\p{Z}]+", " " + SPACE_MARK)
