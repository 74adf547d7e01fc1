"""Encoder-decoder decoding in the TF graph (tf.while_loop over a decoder cache), so a SavedModel translates by
itself: greedy search, and beam search with a length penalty.

A model decodes through two calls (`Seq2Seq`): `start` encodes the source, runs the decoder on the start token at
position 0 and returns the first logits, the decoder `state` (what each step updates: self-attention caches, one
row per hypothesis) and `constants` (what no step changes: the encoder's output and the cross-attention caches);
`step` feeds the token chosen last at position `index` and returns the next logits. A step never recomputes the
prefix. Beam search repeats state and constants once per beam and reorders only the state.

Settings are per row, so one server batch can mix requests: `max_new` (B,) bounds the pieces generated, the end
token included (a row that reaches it without one stops there, as if it had ended); `beam_width` (B,) and
`length_penalty` (B,) shape the search. Beam search is fairseq's: each step takes the 2K best expansions of the K
live hypotheses; those ending among a row's best `width` are finished and scored log P / length ** length_penalty;
the best `width` that do not end live on; a row is done once it has finished `width` hypotheses (or reached its
`max_new`), and its best-scoring finished hypothesis is the result. With width 1 that is exactly greedy search.
Outputs are int32 (B, N), N = the largest max_new: the chosen pieces, [PAD] after the end (the end token dropped).
"""
from typing import Any, Protocol, Tuple

import tensorflow as tf

from components.core import features

PAD_ID = features.SPECIAL_TOKENS.index(features.PAD)
START_ID = features.SPECIAL_TOKENS.index(features.CLS)  # starts every translation
END_ID = features.SPECIAL_TOKENS.index(features.SEP)  # ends it
# Never generated: padding, the start marker, and [MASK], which no target holds.
BANNED_IDS = [features.SPECIAL_TOKENS.index(t) for t in (features.PAD, features.CLS, features.MASK)]


class Seq2Seq(Protocol):
    def start(self, encoder_inputs: dict, length: tf.Tensor) -> Tuple[tf.Tensor, Any, Any]:
        """-> (logits float32 (B, V) after the start token, state, constants); caches hold `length` positions."""

    def step(self, tokens: tf.Tensor, index: tf.Tensor, state: Any, constants: Any) -> Tuple[tf.Tensor, Any]:
        """tokens int32 (N, 1) at position `index` -> (logits float32 (N, V), state)."""


def decode(model: Seq2Seq, encoder_inputs: dict, beam_width: tf.Tensor, length_penalty: tf.Tensor,
           max_new: tf.Tensor) -> tf.Tensor:
    """Greedy when every row's beam_width is 1, else beam search; settings (B,) -> int32 (B, N) pieces."""
    max_new = tf.maximum(max_new, 1)
    logits, state, constants = model.start(encoder_inputs, tf.reduce_max(max_new))
    return tf.cond(tf.reduce_max(beam_width) > 1,
                   lambda: beam_search(model.step, logits, state, constants, beam_width, length_penalty, max_new),
                   lambda: greedy(model.step, logits, state, constants, max_new))


def log_probabilities(logits: tf.Tensor) -> tf.Tensor:
    """(N, V) logits -> log-probabilities with the banned tokens at -inf."""
    banned = tf.scatter_nd([[i] for i in BANNED_IDS], [-float("inf")] * len(BANNED_IDS), tf.shape(logits)[-1:])
    return tf.nn.log_softmax(tf.cast(logits, tf.float32) + banned)


def greedy(step, first_logits: tf.Tensor, state, constants, max_new: tf.Tensor) -> tf.Tensor:
    """The likeliest piece at each position, until the end token or max_new."""
    batch, width = tf.shape(first_logits)[0], tf.reduce_max(max_new)
    chosen = tf.argmax(log_probabilities(first_logits), -1, output_type=tf.int32)  # (B,)
    tokens = _put(tf.fill([batch, width], PAD_ID), 0, chosen)
    done = tf.equal(chosen, END_ID) | (max_new <= 1)

    def body(index, tokens, done, state):
        logits, state = step(tokens[:, index - 1:index], index, state, constants)
        chosen = tf.where(done, PAD_ID, tf.argmax(log_probabilities(logits), -1, output_type=tf.int32))
        done = done | tf.equal(chosen, END_ID) | (index + 1 >= max_new)
        return index + 1, _put(tokens, index, chosen), done, state

    _, tokens, _, _ = tf.while_loop(lambda index, _, done, __: (index < width) & ~tf.reduce_all(done), body,
                                    (tf.constant(1), tokens, done, state))
    return tf.where(tf.equal(tokens, END_ID), PAD_ID, tokens)


def beam_search(step, first_logits: tf.Tensor, state, constants, beam_width: tf.Tensor, length_penalty: tf.Tensor,
                max_new: tf.Tensor) -> tf.Tensor:
    """The best-scoring finished hypothesis of a beam search of beam_width (B,) hypotheses per row."""
    batch, vocabulary = tf.shape(first_logits)[0], tf.shape(first_logits)[1]
    beams = tf.reduce_max(beam_width)  # K: every row's beams are laid out as K, the extra ones never alive
    width = tf.clip_by_value(beam_width, 1, beams)[:, None]  # (B, 1)
    steps = tf.reduce_max(max_new)
    repeat = lambda t: tf.repeat(t, beams, axis=0)  # noqa: E731  (B, ...) -> (B * K, ...), row-major
    state, constants = tf.nest.map_structure(repeat, state), tf.nest.map_structure(repeat, constants)
    rank = tf.range(2 * beams)[None, :]  # (1, 2K)
    first_row = tf.range(batch)[:, None] * beams  # (B, 1): where each row's beams start in (B * K, ...)
    minus_inf = tf.constant(-float("inf"))

    def expand(index, logits, alive, alive_logp, best, best_score, finished, done):
        """One step's expansion of (B * K, V) logits: finish, keep the best alive, reorder."""
        scores = alive_logp[:, :, None] + tf.reshape(log_probabilities(logits), [batch, beams, vocabulary])
        top_scores, top = tf.math.top_k(tf.reshape(scores, [batch, -1]), 2 * beams)  # (B, 2K), best first
        beam, token = top // vocabulary, top % vocabulary
        ends = tf.equal(token, END_ID)
        last = (index + 1 >= max_new)[:, None]  # (B, 1): whatever comes now is the row's last piece
        length = tf.cast(index + 1, tf.float32)
        normalized = top_scores / tf.pow(length, length_penalty[:, None])
        finishing = (rank < width) & (ends | last) & ~done[:, None] & (top_scores > minus_inf)
        candidates = tf.where(finishing, normalized, minus_inf)
        pick = tf.argmax(candidates, axis=1, output_type=tf.int32)  # (B,) first of the best: rank order
        picked_score = tf.gather(candidates, pick, batch_dims=1)
        picked = _put(tf.gather(alive, tf.gather(beam, pick, batch_dims=1), batch_dims=1), index,
                      tf.gather(token, pick, batch_dims=1))  # (B, N)
        better = picked_score > best_score
        best = tf.where(better[:, None], picked, best)
        best_score = tf.where(better, picked_score, best_score)
        finished = finished + tf.reduce_sum(tf.cast(finishing, tf.int32), axis=1)
        # Live on: the first K expansions that do not end, in rank order; beyond the row's width they are dead.
        order = tf.argsort(tf.where(ends, rank + 2 * beams, rank), axis=1)[:, :beams]  # (B, K)
        keep_scores = tf.gather(top_scores, order, batch_dims=1)
        keep_beam, keep_token = tf.gather(beam, order, batch_dims=1), tf.gather(token, order, batch_dims=1)
        alive_now = (tf.range(beams)[None, :] < width) & ~tf.gather(ends, order, batch_dims=1)
        alive_logp = tf.where(alive_now, keep_scores, minus_inf)
        alive = _put(tf.gather(alive, keep_beam, batch_dims=1), index, keep_token)  # (B, K, N)
        reorder = tf.reshape(first_row + keep_beam, [-1])  # (B * K,)
        done = done | (finished >= width[:, 0]) | last[:, 0]
        return alive, alive_logp, best, best_score, finished, done, reorder

    alive = tf.fill([batch, beams, steps], PAD_ID)
    alive_logp = tf.where(tf.range(beams)[None, :] == 0, 0.0, tf.fill([batch, beams], minus_inf))  # one live beam
    best, best_score = tf.fill([batch, steps], PAD_ID), tf.fill([batch], minus_inf)
    finished, done = tf.zeros([batch], tf.int32), tf.zeros([batch], tf.bool)
    alive, alive_logp, best, best_score, finished, done, reorder = expand(
        tf.constant(0), repeat(first_logits), alive, alive_logp, best, best_score, finished, done)
    state = tf.nest.map_structure(lambda t: tf.gather(t, reorder), state)

    def body(index, alive, alive_logp, best, best_score, finished, done, state):
        logits, state = step(tf.reshape(alive[:, :, index - 1], [-1, 1]), index, state, constants)
        alive, alive_logp, best, best_score, finished, done, reorder = expand(
            index, logits, alive, alive_logp, best, best_score, finished, done)
        return (index + 1, alive, alive_logp, best, best_score, finished, done,
                tf.nest.map_structure(lambda t: tf.gather(t, reorder), state))

    loop = tf.while_loop(lambda index, *rest: (index < steps) & ~tf.reduce_all(rest[5]), body,
                         (tf.constant(1), alive, alive_logp, best, best_score, finished, done, state))
    best = loop[3]
    return tf.where(tf.equal(best, END_ID), PAD_ID, best)


def _put(sequences: tf.Tensor, index: tf.Tensor, values: tf.Tensor) -> tf.Tensor:
    """sequences (..., N) with position `index` set to values (...)."""
    return tf.where(tf.range(tf.shape(sequences)[-1]) == index, values[..., None], sequences)
