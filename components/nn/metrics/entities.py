"""Entity-level precision/recall/F1 for tagging, identical to seqeval's default (conlleval-compatible) mode.

Chunking follows seqeval's `get_entities` rule for rule, invalid sequences included: an I-X after O or after
another type opens an entity, a type change closes one, E-/S- close, and BIO and BIOES tags may be mixed. The pure
functions serve evaluation reports; `EntityScore` counts the same entities from tag ids inside `fit`, in keras.ops.
"""
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import keras
import numpy as np
from keras import ops

from components.nn.scan import scan


def _tag_and_type(chunk: str) -> Tuple[str, str]:
    """seqeval's parse (prefix mode): 'B-PER' -> ('B', 'PER'), 'O' -> ('O', '_'), 'I' -> ('I', '_')."""
    return chunk[0], chunk[1:].split("-", maxsplit=1)[-1] or "_"


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether an entity ended on the previous token (seqeval's `end_of_chunk`)."""
    return (prev_tag in ("E", "S")
            or (prev_tag in ("B", "I") and tag in ("B", "S", "O"))
            or (prev_tag not in ("O", ".") and prev_type != type_))


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether an entity starts on this token (seqeval's `start_of_chunk`)."""
    return (tag in ("B", "S")
            or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
            or (tag not in ("O", ".") and prev_type != type_))


def _chunks(seq: Sequence[str]) -> List[Tuple[str, int, int]]:
    """seqeval's `get_entities` on one flat sequence: (type, start, end_inclusive)."""
    prev_tag, prev_type, begin = "O", "", 0
    chunks = []
    for i, chunk in enumerate(list(seq) + ["O"]):
        tag, type_ = _tag_and_type(chunk)
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def extract_entities(tags: Sequence[str]) -> List[Tuple[str, int, int]]:
    """Entities of one tag sequence as (type, start, end_exclusive), in order."""
    return [(type_, start, end + 1) for type_, start, end in _chunks(tags)]


def _scores(tp: int, predicted: int, support: int) -> Dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2.0 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def entity_scores(true_tag_seqs: Sequence[Sequence[str]], pred_tag_seqs: Sequence[Sequence[str]]) -> Dict:
    """{"micro": {precision, recall, f1, support}, "per_type": {type: {...}}} over all sentences.

    An entity counts as found only with the same type, start and end. Undefined ratios are 0 (seqeval's
    zero_division default, without its warning). Sentences are joined with an "O" between them as seqeval does,
    so results match it even for malformed tags.
    """
    return scores_from_counts(entity_counts(true_tag_seqs, pred_tag_seqs))


def entity_counts(true_tag_seqs: Sequence[Sequence[str]], pred_tag_seqs: Sequence[Sequence[str]]) -> Dict:
    """{type: (true positives, predicted, support)}. Entities never cross sentences, so the counts of batches of
    sentences add up to those of all of them (what a streaming evaluator accumulates)."""
    if len(true_tag_seqs) != len(pred_tag_seqs) or any(
            len(t) != len(p) for t, p in zip(true_tag_seqs, pred_tag_seqs)):
        raise ValueError("true and predicted tag sequences differ in number or lengths")
    found = {}
    for name, seqs in (("true", true_tag_seqs), ("pred", pred_tag_seqs)):
        flat = [tag for seq in seqs for tag in list(seq) + ["O"]]
        by_type = defaultdict(set)
        for type_, start, end in _chunks(flat):
            by_type[type_].add((start, end))
        found[name] = by_type
    types = sorted(set(found["true"]) | set(found["pred"]))
    return {t: (len(found["true"][t] & found["pred"][t]), len(found["pred"][t]), len(found["true"][t]))
            for t in types}


def scores_from_counts(counts: Dict) -> Dict:
    """`entity_scores`' result from `entity_counts`' (summed over batches)."""
    micro = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"micro": _scores(*micro), "per_type": {t: _scores(*c) for t, c in sorted(counts.items())}}


def entity_types(tag_names: Sequence[str]) -> List[str]:
    """Sorted entity types of a tag set of 'O' and '<B|I|E|S>-TYPE' names."""
    types = set()
    for name in tag_names:
        if name != "O" and not (len(name) > 2 and name[0] in "BIES" and name[1] == "-"):
            raise ValueError(f"tag {name!r} is neither 'O' nor '<B|I|E|S>-TYPE'")
        if name != "O":
            types.add(name[2:])
    return sorted(types)


def chunk_tables(tag_names: Sequence[str]):
    """Lookup tables that let tag ids follow seqeval's chunking, one pair of consecutive tags at a time.

    Index K (one past the last tag) stands for "outside": the state before a sequence and after it.
    Returns start (K+1, K+1) and end (K+1, K+1) 0/1 int32 tables indexed [previous, current] (end: an entity ended
    on the previous tag), and the type index of each tag (K+1,), with len(types) for O.
    """
    types = entity_types(tag_names)
    parsed = [_tag_and_type(name) for name in tag_names] + [("O", "_")]
    start = np.array([[_start_of_chunk(p[0], c[0], p[1], c[1]) for c in parsed] for p in parsed], "int32")
    end = np.array([[_end_of_chunk(p[0], c[0], p[1], c[1]) for c in parsed] for p in parsed], "int32")
    type_ids = np.array([types.index(t) if tag != "O" else len(types) for tag, t in parsed], "int32")
    return start, end, type_ids


@keras.saving.register_keras_serializable(package="components")
class EntityScore(keras.metrics.Metric):
    """Entity-level micro precision, recall or F1 accumulated over batches of tag ids, as seqeval would score them.

    y_true: int tag ids (B, T) with `ignore_tag` where a position carries no tag (padding, special tokens,
    non-first word pieces); those positions are dropped from BOTH sequences, so each row is scored as the
    word-level sentence of its labelled positions. y_pred: tag ids (B, T), or scores (B, T, K) that are argmaxed.
    Counts per entity type live in `true_positives`, `predicted` and `support` (num_types,), for reports.

    Spans are matched in one scan over time with keras.ops: a pair of entities counts when both open on the same
    position with the same type and both close on the same position; with 'O'/'<B|I|E|S>-TYPE' tags every
    non-O tag is inside exactly one entity, which makes this equal to seqeval's set intersection.
    """

    def __init__(self, tag_names: Sequence[str], score: str = "f1", ignore_tag: int = -100, name=None, **kwargs):
        if score not in ("precision", "recall", "f1"):
            raise ValueError(f"score must be precision, recall or f1, not {score!r}")
        super().__init__(name=name or f"entity_{score}", **kwargs)
        self.tag_names = list(tag_names)
        self.score = score
        self.ignore_tag = ignore_tag
        self.types = entity_types(self.tag_names)
        self._tables = chunk_tables(self.tag_names)
        shape = (len(self.types),)
        self.true_positives = self.add_variable(shape=shape, initializer="zeros", name="true_positives")
        self.predicted = self.add_variable(shape=shape, initializer="zeros", name="predicted")
        self.support = self.add_variable(shape=shape, initializer="zeros", name="support")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("entity counts cannot be weighted")
        num_tags, num_types = len(self.tag_names), len(self.types)
        start, end, type_ids = (ops.convert_to_tensor(t) for t in self._tables)
        start, end = ops.reshape(start, (-1,)), ops.reshape(end, (-1,))  # flat [previous * (K+1) + current]
        y_true = ops.cast(y_true, "int32")
        if len(y_pred.shape) == len(y_true.shape) + 1:
            y_pred = ops.argmax(y_pred, axis=-1)
        y_pred = ops.cast(y_pred, "int32")
        present = ops.not_equal(y_true, self.ignore_tag)  # (B, T)

        def tag_or_outside(tags):  # anything out of range (e.g. a decoder's pad value) reads as O
            return ops.where(ops.logical_and(present, ops.logical_and(tags >= 0, tags < num_tags)), tags, num_tags)

        xs = tuple(ops.transpose(x) for x in (tag_or_outside(y_true), tag_or_outside(y_pred), present))  # (T, B)

        def events(prev_true, prev_pred, aligned, true_tag, pred_tag):
            """Entities opened (true, pred) and matched (closed together while aligned), as type ids or num_types."""
            true_end = ops.take(end, prev_true * (num_tags + 1) + true_tag) > 0
            pred_end = ops.take(end, prev_pred * (num_tags + 1) + pred_tag) > 0
            true_start = ops.take(start, prev_true * (num_tags + 1) + true_tag) > 0
            pred_start = ops.take(start, prev_pred * (num_tags + 1) + pred_tag) > 0
            none = ops.full_like(true_tag, num_types)
            matched = ops.where(aligned & true_end & pred_end, ops.take(type_ids, prev_true), none)
            same_type = ops.equal(ops.take(type_ids, true_tag), ops.take(type_ids, pred_tag))
            aligned = ops.where(true_start | pred_start, true_start & pred_start & same_type,
                                aligned & ~true_end & ~pred_end)
            opened_true = ops.where(true_start, ops.take(type_ids, true_tag), none)
            opened_pred = ops.where(pred_start, ops.take(type_ids, pred_tag), none)
            return aligned, matched, opened_true, opened_pred

        def step(carry, inputs):
            prev_true, prev_pred, aligned, _, _, _ = carry  # (B,) each
            true_tag, pred_tag, here = inputs
            new_aligned, matched, opened_true, opened_pred = events(prev_true, prev_pred, aligned, true_tag, pred_tag)
            none = ops.full_like(true_tag, num_types)
            carry = (ops.where(here, true_tag, prev_true), ops.where(here, pred_tag, prev_pred),
                     ops.where(here, new_aligned, aligned), ops.where(here, matched, none),
                     ops.where(here, opened_true, none), ops.where(here, opened_pred, none))
            return carry, carry  # the TF backend's scan wants outputs shaped like the carry

        outside = ops.full_like(xs[0][0], num_tags)  # (B,)
        init = (outside, outside, ops.zeros_like(xs[2][0]), outside, outside, outside)
        carry, outputs = scan(step, init, xs)
        (last_true, last_pred, aligned), (matched, opened_true, opened_pred) = carry[:3], outputs[3:]
        _, final_match, _, _ = events(last_true, last_pred, aligned, outside, outside)  # the closing "O"

        def count(type_ids_):  # (...) type ids or num_types -> (num_types,) counts
            flat = ops.reshape(type_ids_, (-1,))
            return ops.sum(ops.one_hot(flat, num_types + 1, dtype=self.dtype), axis=0)[:num_types]

        self.true_positives.assign_add(count(matched) + count(final_match))
        self.predicted.assign_add(count(opened_pred))
        self.support.assign_add(count(opened_true))

    def result(self):
        tp, predicted, support = (ops.sum(v) for v in (self.true_positives, self.predicted, self.support))
        precision = ops.divide_no_nan(tp, predicted)
        recall = ops.divide_no_nan(tp, support)
        if self.score == "precision":
            return precision
        if self.score == "recall":
            return recall
        return ops.divide_no_nan(2.0 * precision * recall, precision + recall)

    def reset_state(self):
        for variable in (self.true_positives, self.predicted, self.support):
            variable.assign(ops.zeros_like(variable))

    def get_config(self):
        config = super().get_config()
        config.update(tag_names=self.tag_names, score=self.score, ignore_tag=self.ignore_tag)
        return config
