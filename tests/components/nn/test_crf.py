import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.nn.crf import CRF, FORBIDDEN, PAD_TAG, allowed_transitions

BIO = ["O", "B-X", "I-X"]
K, T = 3, 4
MASKS = np.array([[1, 1, 1, 1],  # full
                  [1, 1, 1, 0],  # padding suffix
                  [1, 0, 1, 1],  # hole in the middle
                  [0, 1, 0, 1],  # leading and middle holes
                  [0, 0, 0, 0]], bool)  # empty sequence


def _crf(seed, constrained):
    crf = CRF(K, tag_names=BIO if constrained else None, bio_constraints=constrained)
    rng = np.random.default_rng(seed)
    crf.set_weights([rng.normal(size=w.shape).astype("float32") for w in crf.get_weights()])
    return crf


def _raw_potentials(crf, constrained):
    """Start, transitions, end as numpy, with the BIO rules written out by hand (independent of the layer)."""
    transitions, start, end = (keras.ops.convert_to_numpy(w) for w in crf.get_weights())
    start, transitions = start.copy(), transitions.copy()
    if constrained:
        start[2] += FORBIDDEN  # a sequence may not start with I-X
        transitions[0, 2] += FORBIDDEN  # nor go O -> I-X
    return start, transitions, end


def _brute_force(emissions, mask, potentials):
    """Score of every tag path over the unmasked positions, by enumeration: {path: score}."""
    start, transitions, end = potentials
    positions = np.flatnonzero(mask)
    scores = {}
    for path in itertools.product(range(K), repeat=len(positions)):
        if not path:
            scores[path] = 0.0
            continue
        score = start[path[0]] + end[path[-1]] + sum(emissions[p, y] for p, y in zip(positions, path))
        scores[path] = score + sum(transitions[a, b] for a, b in zip(path, path[1:]))
    return scores


def _logsumexp(values):
    values = np.asarray(values, "float64")
    return values.max() + np.log(np.exp(values - values.max()).sum())


@pytest.mark.parametrize("constrained", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_likelihood_partition_and_viterbi_match_brute_force(seed, constrained):
    crf = _crf(seed, constrained)
    rng = np.random.default_rng(100 + seed)
    emissions = rng.normal(scale=2.0, size=(len(MASKS), T, K)).astype("float32")
    tags = rng.integers(0, K, (len(MASKS), T))
    tags[~MASKS] = rng.choice([PAD_TAG, 1, 2], size=(~MASKS).sum())  # garbage where masked must not matter

    log_z = keras.ops.convert_to_numpy(crf.log_partition(emissions, MASKS))
    log_lik = keras.ops.convert_to_numpy(crf.log_likelihood(emissions, tags, MASKS))
    decoded = keras.ops.convert_to_numpy(crf.decode(emissions, MASKS))
    potentials = _raw_potentials(crf, constrained)
    for b, mask in enumerate(MASKS):
        scores = _brute_force(emissions[b], mask, potentials)
        expected_log_z = _logsumexp(list(scores.values()))
        gold = tuple(tags[b][mask])
        np.testing.assert_allclose(log_z[b], expected_log_z, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(log_lik[b], scores[gold] - expected_log_z, rtol=1e-5, atol=1e-4)
        best = max(scores, key=scores.get)
        np.testing.assert_array_equal(decoded[b][mask], best)
        assert (decoded[b][~mask] == PAD_TAG).all()


def test_log_partition_is_logsumexp_of_the_layers_own_path_scores():
    crf = _crf(3, constrained=True)
    rng = np.random.default_rng(7)
    emissions = rng.normal(size=(1, T, K)).astype("float32")
    mask = np.array([[1, 0, 1, 1]], bool)
    paths = np.array([[a, 0, b, c] for a, b, c in itertools.product(range(K), repeat=3)])  # every path
    scores = crf.sequence_score(np.repeat(emissions, len(paths), 0), paths, np.repeat(mask, len(paths), 0))
    np.testing.assert_allclose(crf.log_partition(emissions, mask)[0], _logsumexp(scores), rtol=1e-5, atol=1e-4)


def test_gradient_of_log_partition_is_marginals_under_xla():
    crf = _crf(4, constrained=False)
    rng = np.random.default_rng(8)
    emissions = tf.constant(rng.normal(size=(len(MASKS), T, K)).astype("float32"))

    @tf.function(jit_compile=True)
    def marginals(emissions):
        with tf.GradientTape() as tape:
            tape.watch(emissions)
            log_z = tf.reduce_sum(crf.log_partition(emissions, MASKS))
        return tape.gradient(log_z, emissions)

    np.testing.assert_allclose(marginals(emissions).numpy().sum(-1), MASKS.astype("float32"), atol=1e-5)


def test_constrained_decoding_yields_valid_bio_across_holes():
    crf = CRF(K, tag_names=BIO, bio_constraints=True)  # zero transitions: only the constraints shape the path
    emissions = np.zeros((2, 6, K), "float32")
    emissions[:, :, 2] = 5.0  # I-X everywhere is what the emissions want
    emissions[:, 3, 0] = 9.0  # ... and an O in the middle
    mask = np.array([[1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 1]], bool)
    decoded = keras.ops.convert_to_numpy(crf.decode(emissions, mask))
    for row, present in zip(decoded, mask):
        chain = [BIO[t] for t in row[present]]
        assert chain[0] != "I-X"
        assert all(not (a == "O" and b == "I-X") for a, b in zip(chain, chain[1:])), chain


def test_decoding_in_one_graph_takes_sequences_of_any_length():
    """Training batches are cut to their longest row: one traced decode must take every length."""
    crf = _crf(3, constrained=True)
    decode = tf.function(crf.decode, input_signature=[tf.TensorSpec([None, None, K]),
                                                      tf.TensorSpec([None, None], tf.bool)])
    rng = np.random.default_rng(3)
    for length in (4, 9, 2):
        emissions = rng.normal(size=(3, length, K)).astype("float32")
        mask = np.arange(length)[None] < np.array([[length], [length - 1], [1]])
        np.testing.assert_array_equal(decode(emissions, mask), keras.ops.convert_to_numpy(crf.decode(emissions, mask)))


def test_allowed_transitions_bioes():
    names = ["O", "B-X", "I-X", "E-X", "S-X", "B-Y"]
    start, transitions, end = allowed_transitions(names)
    np.testing.assert_array_equal(start, [1, 1, 0, 0, 1, 1])
    np.testing.assert_array_equal(end, [1, 0, 0, 1, 1, 0])
    index = {n: i for i, n in enumerate(names)}
    allowed = {(a, b) for a in names for b in names if transitions[index[a], index[b]]}
    assert ("B-X", "I-X") in allowed and ("I-X", "E-X") in allowed and ("E-X", "B-Y") in allowed
    assert ("B-X", "O") not in allowed and ("O", "I-X") not in allowed and ("B-Y", "E-X") not in allowed
    assert ("S-X", "S-X") in allowed and ("E-X", "I-X") not in allowed


def test_computes_in_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        crf = CRF(K)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    emissions = keras.ops.cast(np.ones((2, T, K)), "bfloat16")
    assert crf.transitions.dtype == "float32"
    assert crf.log_likelihood(emissions, np.zeros((2, T), "int32"), np.ones((2, T), bool)).dtype == "float32"


def test_config_round_trip():
    crf = _crf(5, constrained=True)
    clone = CRF.from_config(crf.get_config())
    clone.set_weights(crf.get_weights())
    assert clone.get_config() == crf.get_config()
    emissions = np.random.default_rng(9).normal(size=(len(MASKS), T, K)).astype("float32")
    np.testing.assert_allclose(clone.log_partition(emissions, MASKS), crf.log_partition(emissions, MASKS))
    np.testing.assert_array_equal(clone(emissions, MASKS), crf(emissions, MASKS))
