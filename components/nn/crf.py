"""Linear-chain CRF for token tagging, written in `keras.ops` only so it runs on any Keras backend.

Mask semantics (the same in every method): positions where `mask` is False are skipped entirely, and the chain
connects consecutive unmasked positions. So a mask may have holes in the middle (e.g. non-first word pieces, [CLS],
[SEP]), not only a padding suffix. Start transitions score the first unmasked position, end transitions the last.
A row with no unmasked position is the empty sequence: score 0, log-partition 0, log-likelihood 0.

Everything is computed in float32 (emissions are cast), whatever the compute precision of the model around it.
"""
from typing import Optional, Sequence

import keras
import numpy as np
from keras import ops

from components.nn.scan import scan

# exp(-1e4) underflows to 0 in float32, so a forbidden move adds no probability mass. Unlike -inf it never makes
# inf - inf = NaN, and labels that break the rules cost a finite, readable 1e4 per break in the loss.
FORBIDDEN = -1e4

# What `decode` writes at masked positions: the same value the labels use for "no tag here".
PAD_TAG = -100


def _fold(step, init, xs):
    """Final carry of `carry = step(carry, x_t)` over axis 0 of `xs`, differentiable under XLA on every backend.

    keras.ops.scan/fori_loop on TensorFlow build a while_loop without `maximum_iterations`, whose gradient XLA
    refuses ("requires a fixed tensor list size"); JAX's while_loop has no reverse-mode gradient at all, its scan has.
    """
    if keras.backend.backend() == "jax":
        return ops.scan(lambda carry, x: (step(carry, x), None), init, xs)[0]
    length = ops.shape(xs[0])[0]

    def body(i, carry):
        return i + 1, step(carry, tuple(ops.take(x, i, axis=0) for x in xs))

    return ops.while_loop(lambda i, carry: i < length, body, (0, init), maximum_iterations=length)[1]


def _split_tag(name: str):
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', None)."""
    if name == "O":
        return "O", None
    prefix, sep, entity = name.partition("-")
    if prefix not in ("B", "I", "E", "S") or not sep or not entity:
        raise ValueError(f"tag {name!r} is neither 'O' nor '<B|I|E|S>-TYPE'")
    return prefix, entity


def allowed_transitions(tag_names: Sequence[str]):
    """Which moves a valid IOB2 (BIO) or BIOES sequence may make: 0/1 arrays start (K,), transitions (K, K), end (K,).

    The scheme is BIOES when any tag starts with E- or S-, else BIO. BIO: I-X only after B-X or I-X, never first.
    BIOES: after B-X/I-X only I-X/E-X; after O/E/S only O/B/S; start with O/B/S; end with O/E/S.
    IOB1 data (I-X opening an entity) violates these: convert it to IOB2 before training with constraints.
    """
    parts = [_split_tag(name) for name in tag_names]
    bioes = any(prefix in ("E", "S") for prefix, _ in parts)
    k = len(parts)
    start, transitions, end = np.ones(k, "float32"), np.ones((k, k), "float32"), np.ones(k, "float32")
    for j, (to_prefix, to_type) in enumerate(parts):
        opens = to_prefix in ("O", "B", "S")  # may follow "outside" (sequence start, O, or a closed entity)
        start[j] = float(opens if bioes else to_prefix != "I")
        for i, (from_prefix, from_type) in enumerate(parts):
            inside = from_prefix in ("B", "I")  # an entity is open after this tag
            if bioes:
                ok = (to_prefix in ("I", "E") and to_type == from_type) if inside else opens
            else:
                ok = to_prefix != "I" or (inside and to_type == from_type)
            transitions[i, j] = float(ok)
    if bioes:
        end = np.array([float(prefix in ("O", "E", "S")) for prefix, _ in parts], "float32")
    return start, transitions, end


@keras.saving.register_keras_serializable(package="components")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: a learned K x K transition matrix (from row tag to column tag) plus optional start/end
    scores, over per-token emission scores (B, T, K). `call` is Viterbi decoding; training uses `log_likelihood`.

    With `bio_constraints`, moves that no valid BIO/BIOES sequence makes (see `allowed_transitions`) get FORBIDDEN
    added in the likelihood and in Viterbi alike, so decoding never outputs an invalid sequence.
    """

    def __init__(self, num_tags: int, boundary_transitions: bool = True, tag_names: Optional[Sequence[str]] = None,
                 bio_constraints: bool = False, **kwargs):
        kwargs.setdefault("dtype", "float32")  # a CRF in bfloat16 loses the log-partition to rounding
        super().__init__(**kwargs)
        if tag_names is not None and len(tag_names) != num_tags:
            raise ValueError(f"{len(tag_names)} tag names for {num_tags} tags")
        if bio_constraints and tag_names is None:
            raise ValueError("bio_constraints needs tag_names")
        self.num_tags = num_tags
        self.boundary_transitions = boundary_transitions
        self.tag_names = list(tag_names) if tag_names is not None else None
        self.bio_constraints = bio_constraints

        allowed = (allowed_transitions(self.tag_names) if bio_constraints
                   else (np.ones(num_tags), np.ones((num_tags, num_tags)), np.ones(num_tags)))
        self._penalties = tuple(((1.0 - a) * FORBIDDEN).astype("float32") for a in allowed)  # start, trans, end
        # The shapes are known now, so the weights exist before any call: log_likelihood may come first.
        self.transitions = self.add_weight(shape=(num_tags, num_tags), initializer="zeros", name="transitions")
        self.start_transitions = self.end_transitions = None
        if boundary_transitions:
            self.start_transitions = self.add_weight(shape=(num_tags,), initializer="zeros", name="start_transitions")
            self.end_transitions = self.add_weight(shape=(num_tags,), initializer="zeros", name="end_transitions")
        self.built = True

    def potentials(self):
        """(start (K,), transitions (K, K), end (K,)) float32 scores, constraints included."""
        start_penalty, transition_penalty, end_penalty = (ops.convert_to_tensor(p) for p in self._penalties)
        transitions = ops.cast(self.transitions, "float32") + transition_penalty
        if not self.boundary_transitions:
            return start_penalty, transitions, end_penalty
        return (ops.cast(self.start_transitions, "float32") + start_penalty, transitions,
                ops.cast(self.end_transitions, "float32") + end_penalty)

    def _inputs(self, emissions, mask, tags=None):
        """Time-major float32 emissions (T, B, K), bool mask (T, B) and int32 tags (T, B) (0 where masked)."""
        emissions = ops.cast(emissions, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(emissions)[:2], "bool")
        mask = ops.cast(mask, "bool")
        tags = ops.zeros(ops.shape(mask), "int32") if tags is None else ops.where(mask, ops.cast(tags, "int32"), 0)
        return ops.transpose(emissions, (1, 0, 2)), ops.transpose(mask), ops.transpose(tags)

    def _forward(self, emissions, mask, tags):
        """Forward algorithm in log space and the score of `tags`, in one scan over time: (log_z (B,), score (B,))."""
        start, transitions, end = self.potentials()
        emissions, mask, tags = self._inputs(emissions, mask, tags)  # (T, B, K), (T, B), (T, B)
        num_tags = self.num_tags
        flat_transitions = ops.reshape(transitions, (-1,))  # (K*K,)

        def step(carry, inputs):
            alpha, started, previous, score = carry  # (B, K), (B,), (B,), (B,)
            emission, present, tag = inputs  # (B, K), (B,), (B,)
            # log-sum over the previous tag i of alpha_i + transition_ij, for each tag j
            continued = ops.logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emission  # (B, K)
            first = start[None] + emission  # (B, K)
            new_alpha = ops.where(present[:, None], ops.where(started[:, None], continued, first), alpha)
            emitted = ops.take_along_axis(emission, tag[:, None], axis=1)[:, 0]  # (B,)
            moved = ops.where(started, ops.take(flat_transitions, previous * num_tags + tag), ops.take(start, tag))
            new_score = ops.where(present, score + emitted + moved, score)
            new_previous = ops.where(present, tag, previous)
            return new_alpha, ops.logical_or(started, present), new_previous, new_score

        init = (ops.zeros_like(emissions[0]), ops.zeros_like(mask[0]), ops.zeros_like(tags[0]),
                ops.zeros_like(emissions[0, :, 0]))
        alpha, started, last, score = _fold(step, init, (emissions, mask, tags))
        log_z = ops.where(started, ops.logsumexp(alpha + end[None], axis=1), 0.0)
        score = ops.where(started, score + ops.take(end, last), 0.0)
        return log_z, score

    def log_partition(self, emissions, mask=None):
        """log Z: logsumexp of the scores of all tag paths over the unmasked positions, (B,)."""
        return self._forward(emissions, mask, None)[0]

    def sequence_score(self, emissions, tags, mask=None):
        """Unnormalized score of `tags` (B, T) over the unmasked positions, (B,); masked tags are ignored."""
        return self._forward(emissions, mask, tags)[1]

    def log_likelihood(self, emissions, tags, mask=None):
        """log p(tags | emissions) per sequence, (B,): emissions (B, T, K), tags (B, T) int, mask (B, T) bool."""
        log_z, score = self._forward(emissions, mask, tags)
        return score - log_z

    def decode(self, emissions, mask=None, pad_tag: int = PAD_TAG):
        """Viterbi: the highest-scoring tag path, int32 (B, T), with `pad_tag` at masked positions."""
        start, transitions, end = self.potentials()
        emissions, mask, _ = self._inputs(emissions, mask)  # (T, B, K), (T, B)
        identity = ops.zeros_like(emissions[0], "int32") + ops.arange(self.num_tags, dtype="int32")[None]  # (B, K)

        def forward(carry, inputs):
            delta, started, _ = carry  # (B, K), (B,), (B, K)
            emission, present = inputs  # (B, K), (B,)
            candidates = delta[:, :, None] + transitions[None]  # (B, K_from, K_to)
            continued = ops.max(candidates, axis=1) + emission  # (B, K)
            new_delta = ops.where(started[:, None], continued, start[None] + emission)
            new_delta = ops.where(present[:, None], new_delta, delta)
            # Backpointer to the best tag at the previous unmasked position; identity where nothing links,
            # so backtracking carries the tag straight through holes in the mask.
            link = ops.logical_and(present, started)[:, None]
            backpointer = ops.where(link, ops.cast(ops.argmax(candidates, axis=1), "int32"), identity)
            carry = (new_delta, ops.logical_or(started, present), backpointer)
            return carry, carry  # the TF backend's scan wants outputs shaped like the carry

        # No gradient flows through decoding, so keras.ops.scan is fine here, XLA included.
        init = (ops.zeros_like(emissions[0]), ops.zeros_like(mask[0]), identity)
        (delta, _, _), (_, _, backpointers) = scan(forward, init, (emissions, mask))  # bp: (T, B, K)
        best_last = ops.cast(ops.argmax(delta + end[None], axis=1), "int32")  # (B,)

        def backward(tag, backpointer):
            previous = ops.take_along_axis(backpointer, tag[:, None], axis=1)[:, 0]
            return previous, tag  # emits the tag at this position, carries the one before

        _, reversed_tags = ops.scan(backward, best_last, ops.flip(backpointers, axis=0))
        tags = ops.transpose(ops.flip(reversed_tags, axis=0))  # (B, T)
        return ops.where(ops.transpose(mask), tags, ops.cast(pad_tag, "int32"))

    def call(self, emissions, mask=None):
        return self.decode(emissions, mask)

    def compute_output_spec(self, emissions, mask=None):
        return keras.KerasTensor(emissions.shape[:2], dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(num_tags=self.num_tags, boundary_transitions=self.boundary_transitions,
                      tag_names=self.tag_names, bio_constraints=self.bio_constraints)
        return config
