"""Word-piece ids back to readable text, in the graph (the serving signature returns text).

`join_marked` is exact for pieces of text marked by `spacing.mark_spaces` (translation targets): pieces are joined
as they are, "##" dropped, each space mark turned back into a space, special tokens dropped ([UNK] stays visible).

`detokenize` guesses the spaces of unmarked pieces (the causal LM's): pieces are joined with spaces, "##"
continuations glued to the piece before them, the document separator shown as a line break, other special tokens
dropped, and the spaces the tokenizer's punctuation split put inside "i'll" or "don't" and before closing
punctuation taken out. Normalization (lowercasing, accent stripping) cannot be undone.
"""
import tensorflow as tf

from components.core import features
from components.text.tokenization.spacing import SPACE_MARK
from components.text.tokenization.tokenizer import SUFFIX_INDICATOR

_HIDDEN = (features.PAD, features.CLS, features.MASK)


def detokenize(token_ids: tf.Tensor, vocabulary: tf.Tensor) -> tf.Tensor:
    """token_ids int (B, N), vocabulary tf.string (V,) -> tf.string (B,)."""
    shown = tf.tensor_scatter_nd_update(  # (V,) what each token prints as
        vocabulary,
        [[features.SPECIAL_TOKENS.index(t)] for t in _HIDDEN + (features.DOCUMENT_END,)],
        [""] * len(_HIDDEN) + ["\n"])
    text = tf.strings.reduce_join(tf.gather(shown, token_ids), axis=-1, separator=" ")  # (B,)
    for pattern, rewrite in ((" " + SUFFIX_INDICATOR, ""),  # word pieces back into words
                             (r" +", " "),  # the gaps hidden tokens leave
                             (r" ?\n ?", "\n"),
                             (r" ([.,;:!?])", r"\1"),  # no space before closing punctuation
                             (r"(\w) ' (\w)", r"\1'\2")):  # i ' ll, don ' t, o ' er: the tokenizer split them
        text = tf.strings.regex_replace(text, pattern, rewrite)
    return tf.strings.strip(text)


_UNSHOWN = (features.PAD, features.CLS, features.SEP, features.MASK)  # [CLS]/[SEP] start and end a translation


def join_marked(token_ids: tf.Tensor, vocabulary: tf.Tensor) -> tf.Tensor:
    """token_ids int (B, N) of space-marked text, vocabulary tf.string (V,) -> tf.string (B,)."""
    shown = tf.strings.regex_replace(vocabulary, "^" + SUFFIX_INDICATOR, "")  # (V,) "##nicht" -> "nicht"
    shown = tf.tensor_scatter_nd_update(shown, [[features.SPECIAL_TOKENS.index(t)] for t in _UNSHOWN],
                                        [""] * len(_UNSHOWN))
    text = tf.strings.reduce_join(tf.gather(shown, token_ids), axis=-1)  # (B,)
    return tf.strings.strip(tf.strings.regex_replace(text, SPACE_MARK, " "))
