"""The translation model's decoding: a cached step equals recomputing the prefix; greedy and beam search in the graph
equal plain-Python references that recompute everything; beam width 1 is greedy; settings are per row."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from components.core import features
from components.core.config import ModelConfig
from components.nn import decoding
from components.nn.backbone import build_backbone
from components.nn.losses import SmoothedCrossEntropy
from components.tasks.translation.model import build_translator
from tests.components.tasks.translation import reference

VOCAB, SOURCE_LENGTH, TARGET_LENGTH = 30, 12, 8
SOURCES = [[2, 7, 8, 9, 10, 3], [2, 11, 3], [2, 12, 13, 14, 3]]


def _build(shared_embeddings):
    keras.utils.set_random_seed(3)
    config = ModelConfig(preset="tiny", hidden_dim=16, intermediate_dim=32, num_heads=2, dropout=0.0)
    encoder = build_backbone(config, VOCAB, SOURCE_LENGTH)
    return build_translator(encoder, VOCAB, TARGET_LENGTH, 2, 16, 2, 32, 0.0, shared_embeddings=shared_embeddings)


@pytest.fixture(scope="module")
def model():
    return _build(shared_embeddings=True)


def _source(rows=SOURCES):
    token_ids = tf.ragged.constant(rows, dtype=tf.int32).to_tensor()
    return {features.TOKEN_IDS: token_ids, features.SEGMENT_IDS: tf.zeros_like(token_ids),
            features.PADDING_MASK: tf.cast(token_ids > 0, tf.int32)}


def _next_logits(model, row):
    """The reference's view of the model: the full prefix recomputed for one source row."""
    source = _source([SOURCES[row]])

    def next_logits(prefixes):
        starts = [[decoding.START_ID] + list(prefix) for prefix in prefixes]
        length = max(len(s) for s in starts)
        tokens = tf.constant([s + [0] * (length - len(s)) for s in starts], tf.int32)
        inputs = {name: tf.repeat(value, len(starts), axis=0) for name, value in source.items()}
        inputs[features.DECODER_TOKEN_IDS] = tokens
        inputs[features.DECODER_PADDING_MASK] = tf.cast(tokens > 0, tf.int32)
        logits = model(inputs).numpy()
        return np.stack([logits[i, len(s) - 1] for i, s in enumerate(starts)])
    return next_logits


@pytest.mark.parametrize("shared_embeddings", [True, False])
def test_a_cached_step_equals_recomputing_the_prefix(shared_embeddings):
    model = _build(shared_embeddings)
    source = _source()
    prefix = tf.constant([[decoding.START_ID, 5, 6, 7, 8], [decoding.START_ID, 9, 5, 5, 6],
                          [decoding.START_ID, 20, 21, 22, 23]], tf.int32)
    full = model({**source, features.DECODER_TOKEN_IDS: prefix,
                  features.DECODER_PADDING_MASK: tf.ones_like(prefix)}).numpy()  # (B, 5, V)
    logits, state, constants = model.start(source, tf.constant(TARGET_LENGTH))
    cached = [logits.numpy()]
    for index in range(1, 5):
        logits, state = model.step(prefix[:, index:index + 1], tf.constant(index), state, constants)
        cached.append(logits.numpy())
    np.testing.assert_allclose(np.stack(cached, axis=1), full, atol=1e-5)


def _decode(model, beam_width, length_penalty, max_new, graph=False):
    """Eager by default (quick); graph=True traces it as the SavedModel does (both branches, the while loops)."""
    settings = [tf.constant(v, dtype) for v, dtype in ((beam_width, tf.int32), (length_penalty, tf.float32),
                                                       (max_new, tf.int32))]
    return (tf.function(decoding.decode) if graph else decoding.decode)(model, _source(), *settings).numpy()


def test_greedy_equals_a_reference_that_recomputes_every_prefix(model):
    out = _decode(model, [1, 1, 1], [0.0, 0.0, 0.0], [TARGET_LENGTH, 3, 5])
    assert out.shape == (3, TARGET_LENGTH)
    for row, max_new in enumerate([TARGET_LENGTH, 3, 5]):
        assert reference.strip(out[row]) == reference.greedy(_next_logits(model, row), max_new), row


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_equals_a_reference_that_recomputes_every_prefix(model, length_penalty):
    widths, max_new = [4, 2, 3], [TARGET_LENGTH, 5, 6]
    out = _decode(model, widths, [length_penalty] * 3, max_new, graph=length_penalty > 0)
    for row in range(3):
        expected = reference.beam_search(_next_logits(model, row), widths[row], length_penalty, max_new[row])
        assert reference.strip(out[row]) == expected, row


@pytest.mark.parametrize("length_penalty", [0.0, 1.5])
def test_beam_search_of_width_one_is_greedy(model, length_penalty):
    state = model.start(_source(), tf.constant(TARGET_LENGTH))
    max_new = tf.constant([TARGET_LENGTH, 4, 6])
    greedy = decoding.greedy(model.step, *state, max_new)
    beam = decoding.beam_search(model.step, *state, tf.constant([1, 1, 1]), tf.fill([3], length_penalty), max_new)
    assert greedy.numpy().tolist() == beam.numpy().tolist()


def test_a_rows_result_does_not_depend_on_its_batch(model):
    mixed = _decode(model, [4, 1, 2], [1.0, 0.0, 0.5], [TARGET_LENGTH, 4, 6])
    for row, (width, penalty, max_new) in enumerate([(4, 1.0, TARGET_LENGTH), (1, 0.0, 4), (2, 0.5, 6)]):
        alone = _decode(model, [width] * 3, [penalty] * 3, [max_new] * 3)
        assert reference.strip(mixed[row]) == reference.strip(alone[row]), row


def test_label_smoothing_spreads_the_target_over_the_vocabulary():
    logits = tf.math.log(tf.constant([[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]]))
    targets, weights = tf.constant([[0, 2]]), tf.constant([[1.0, 0.0]])
    smoothed = SmoothedCrossEntropy(0.3)(targets, logits, sample_weight=weights)
    expected = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3)(tf.one_hot([0], 3),
                                                                                            logits[0, :1])
    assert float(smoothed) == pytest.approx(float(expected), rel=1e-5)  # the padded position weighs nothing
    plain = SmoothedCrossEntropy(0.0)(targets, logits, sample_weight=weights)
    assert float(plain) == pytest.approx(-np.log(0.7), rel=1e-5)


def test_it_learns_a_mapping_that_needs_the_source():
    """Reversing a random sequence: a decoder that ignored its source could not beat 1 in 20 per piece (plus the end
    marker). With BERT's 0.02-wide initialisation in the decoder this sat there for 500 steps (the decoder learned the
    target alone, and a real model said "%s: %s: %s" to every source); with width-scaled (Glorot) kernels it learns
    within 200."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, TARGET_LENGTH - 1, 2048)
    rows = [list(rng.integers(5, 25, n)) for n in lengths]
    source = _source([[2] + r + [3] for r in rows])
    targets = tf.ragged.constant([r[::-1] + [decoding.END_ID] for r in rows]).to_tensor(shape=[None, TARGET_LENGTH])
    decoder_ids = tf.concat([tf.fill([len(rows), 1], decoding.START_ID), targets[:, :-1]], axis=1)
    inputs = dict(source, **{features.DECODER_TOKEN_IDS: decoder_ids,
                             features.DECODER_PADDING_MASK: tf.cast(targets > 0, tf.int32)})
    weights = tf.cast(targets > 0, tf.float32)
    keras.utils.set_random_seed(1)
    config = ModelConfig(preset="tiny", hidden_dim=32, intermediate_dim=64, num_heads=2, dropout=0.0)
    model = build_translator(build_backbone(config, VOCAB, SOURCE_LENGTH), VOCAB, TARGET_LENGTH, 2, 32, 2, 64, 0.0,
                             shared_embeddings=True)
    model.compile(keras.optimizers.Adam(1e-3), SmoothedCrossEntropy(0.0),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    train = {name: value[:1792] for name, value in inputs.items()}
    history = model.fit(train, targets[:1792], sample_weight=weights[:1792], batch_size=64, epochs=10, verbose=0)
    held_out = {name: value[1792:] for name, value in inputs.items()}
    accuracy = model.evaluate(held_out, targets[1792:], sample_weight=weights[1792:], verbose=0,
                              return_dict=True)["accuracy"]
    assert accuracy > 0.9, (accuracy, history.history["accuracy"][-1])
