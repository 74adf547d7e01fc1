"""Masked-LM targets: rates over many draws, specials never touched, labels only at targets, whole words, seeds."""
import numpy as np
import pytest
import tensorflow as tf

from components.core import features
from components.tasks.masked_lm import masking

WORDS = ["the", "film", "was", "great", "bad", "un", "##believ", "##able", "act", "##ing"]
VOCAB = list(features.SPECIAL_TOKENS) + ["[unused0]"] + WORDS
ID = {token: i for i, token in enumerate(VOCAB)}
SPECIAL_IDS = [ID[t] for t in VOCAB if masking.is_special(t)]
LENGTH, ROWS = 24, 400


def _batch(rows=ROWS, seed=0):
    """[CLS] random words [SEP] [PAD]...: each row with 12-20 real pieces; some [UNK]s among them."""
    rng = np.random.default_rng(seed)
    token_ids = np.zeros((rows, LENGTH), np.int32)
    for row in range(rows):
        n = rng.integers(12, 21)
        token_ids[row, :n] = rng.choice([ID[w] for w in WORDS] + [ID["[UNK]"]], size=n)
        token_ids[row, 0], token_ids[row, n - 1] = ID["[CLS]"], ID["[SEP]"]
    return {features.TOKEN_IDS: tf.constant(token_ids), features.PADDING_MASK: tf.constant((token_ids > 0) * 1)}


def _selected(inputs, out):
    """(B, L) bool: the target positions, from mask_positions and mask_weights."""
    selected = np.zeros(inputs[features.TOKEN_IDS].shape, bool)
    for row, (positions, weights) in enumerate(zip(out[masking.MASK_POSITIONS].numpy(),
                                                   out[masking.MASK_WEIGHTS].numpy())):
        selected[row, positions[weights > 0]] = True
    return selected


def test_token_masking_takes_round_rate_of_candidates_and_never_a_special_token():
    inputs = _batch()
    out = masking.Masker(VOCAB, rate=0.15, max_predictions=20, whole_word=False)(inputs, seed=None)
    original = inputs[features.TOKEN_IDS].numpy()
    candidates = (original > 0) & ~np.isin(original, SPECIAL_IDS)
    selected = _selected(inputs, out)
    np.testing.assert_array_equal(selected.sum(1), np.maximum(1, np.round(0.15 * candidates.sum(1))))
    assert not (selected & ~candidates).any()  # [CLS], [SEP], [PAD], [UNK] are never targets
    changed = out[features.TOKEN_IDS].numpy() != original
    assert not (changed & ~selected).any()  # nothing outside the targets changes
    weights = out[masking.MASK_WEIGHTS].numpy()
    labels = out[masking.MASK_IDS].numpy()
    positions = out[masking.MASK_POSITIONS].numpy()
    np.testing.assert_array_equal(labels[weights > 0], original[np.nonzero(weights)[0], positions[weights > 0]])
    assert (labels[weights == 0] == 0).all() and (positions[weights == 0] == 0).all()


def test_eighty_ten_ten_and_random_replacements_are_never_special():
    inputs = _batch(rows=2000, seed=1)
    out = masking.Masker(VOCAB, rate=0.15, max_predictions=20, whole_word=False)(inputs, seed=None)
    selected = _selected(inputs, out)
    original, masked = inputs[features.TOKEN_IDS].numpy()[selected], out[features.TOKEN_IDS].numpy()[selected]
    mask_rate = np.mean(masked == ID["[MASK]"])
    kept = np.mean(masked == original)
    # a random replacement equals the original 1 time in len(WORDS): the expected "kept" is 0.1 + 0.1 / 10
    assert abs(mask_rate - 0.8) < 0.02 and abs(kept - 0.11) < 0.015, (mask_rate, kept)
    replaced = masked[(masked != ID["[MASK]"]) & (masked != original)]
    assert len(replaced) > 100 and not np.isin(replaced, SPECIAL_IDS).any()


def test_every_candidate_position_is_equally_likely_over_many_draws():
    inputs = _batch(rows=1, seed=2)
    masker = masking.Masker(VOCAB, rate=0.15, max_predictions=20, whole_word=False)
    tiled = {k: tf.tile(v, [3000, 1]) for k, v in inputs.items()}
    rates = _selected(tiled, masker(tiled, seed=None)).mean(0)
    original = inputs[features.TOKEN_IDS].numpy()[0]
    candidates = (original > 0) & ~np.isin(original, SPECIAL_IDS)
    expected = np.round(0.15 * candidates.sum()) / candidates.sum()
    assert np.abs(rates[candidates] - expected).max() < 0.03 and (rates[~candidates] == 0).all()


def test_max_predictions_caps_the_targets():
    out = masking.Masker(VOCAB, rate=0.9, max_predictions=3, whole_word=False)(_batch(rows=50), seed=None)
    assert out[masking.MASK_POSITIONS].shape[1] == 3
    np.testing.assert_array_equal(out[masking.MASK_WEIGHTS].numpy().sum(1), 3)


def test_whole_word_masking_takes_all_pieces_of_a_word_or_none():
    words = [["un", "##believ", "##able"], ["act", "##ing"], ["the"], ["film"]]
    rng = np.random.default_rng(3)
    token_ids = np.zeros((300, LENGTH), np.int32)
    spans = []
    for row in range(300):
        pieces, row_spans = [ID["[CLS]"]], []
        while len(pieces) < LENGTH - 4:
            word = words[rng.integers(len(words))]
            row_spans.append((len(pieces), len(pieces) + len(word)))
            pieces += [ID[p] for p in word]
        token_ids[row, :len(pieces) + 1] = pieces + [ID["[SEP]"]]
        spans.append(row_spans)
    inputs = {features.TOKEN_IDS: tf.constant(token_ids), features.PADDING_MASK: tf.constant((token_ids > 0) * 1)}
    selected = _selected(inputs, masking.Masker(VOCAB, 0.15, 20, whole_word=True)(inputs, seed=None))
    whole = partial = 0
    for row, row_spans in enumerate(spans):
        for start, end in row_spans:
            taken = selected[row, start:end]
            whole += taken.all() and end - start > 1
            partial += taken.any() and not taken.all()
    assert partial == 0 and whole > 50
    assert abs(selected.sum() / ((token_ids > 0).sum() - 600) - 0.15) < 0.03  # near the rate, in whole words


def test_seeded_masks_depend_only_on_the_row_and_unseeded_ones_are_redrawn():
    inputs = _batch(rows=8)
    masker = masking.Masker(VOCAB, 0.15, 20, whole_word=False)
    first = masker(inputs, seed=7)
    reordered = {k: tf.reverse(v, [0]) for k, v in inputs.items()}
    again = masker(reordered, seed=7)
    for key in (features.TOKEN_IDS, masking.MASK_POSITIONS, masking.MASK_IDS):
        np.testing.assert_array_equal(first[key].numpy(), tf.reverse(again[key], [0]).numpy())
    assert not np.array_equal(masker(inputs, seed=8)[masking.MASK_POSITIONS], first[masking.MASK_POSITIONS])
    draws = [masker(inputs, seed=None)[masking.MASK_POSITIONS].numpy() for _ in range(2)]
    assert not np.array_equal(*draws)


@pytest.mark.parametrize("seed", [None, 5])
def test_runs_in_a_tf_data_graph(seed):
    masker = masking.Masker(VOCAB, 0.15, 4, whole_word=True)
    dataset = tf.data.Dataset.from_tensor_slices(_batch(rows=6)).batch(3).map(lambda x: masker(x, seed))
    shapes = [tuple(batch[masking.MASK_POSITIONS].shape) for batch in dataset]
    assert shapes == [(3, 4), (3, 4)]
