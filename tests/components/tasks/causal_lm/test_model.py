"""The causal LM: perplexity, greedy and sampled generation with the KV cache, against a full recompute."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.core.config import ModelConfig
from components.nn import generation, sampling
from components.nn.metrics.perplexity import Perplexity
from components.tasks.causal_lm import model as causal_lm

VOCAB, CONTEXT = 24, 10


@pytest.fixture(scope="module")
def lm():
    keras.utils.set_random_seed(1)
    config = ModelConfig(preset="tiny", hidden_dim=16, intermediate_dim=32, num_heads=2, dropout=0.0)
    return causal_lm.build_causal_lm(causal_lm.new_backbone(config, VOCAB, CONTEXT))


def test_perplexity_is_exp_of_the_mean_token_loss_over_weighted_tokens():
    logits = tf.math.log(tf.constant([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]]]))  # (1, 3, 3)
    targets, weights = tf.constant([[0, 1, 2]]), tf.constant([[1.0, 1.0, 0.0]])  # the last position is padding
    metric = Perplexity()
    metric.update_state(targets, logits, sample_weight=weights)
    loss = causal_lm.loss()(targets, logits, sample_weight=weights)
    assert float(loss) == pytest.approx((-math.log(0.5) - math.log(0.8)) / 2, rel=1e-6)
    assert float(metric.result()) == pytest.approx(math.exp(float(loss)), rel=1e-6)
    metric.update_state(tf.constant([[2]]), logits[:, 2:], sample_weight=tf.constant([[1.0]]))  # a second batch
    expected = math.exp((-math.log(0.5) - math.log(0.8) + math.log(3)) / 3)  # per token, not per batch
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


def test_filter_logits_keeps_top_k_then_top_p():
    logits = tf.math.log(tf.constant([[0.4, 0.3, 0.2, 0.1]] * 3))
    kept = sampling.filter_logits(logits, tf.ones([3]), tf.constant([2, 0, 0]), tf.constant([1.0, 0.6, 0.05]))
    assert np.isfinite(kept.numpy()).tolist() == [[True, True, False, False],
                                                  [True, True, False, False],  # 0.4 < 0.6 <= 0.4 + 0.3
                                                  [True, False, False, False]]  # the top token always stays


def _settings(batch, max_new, temperature=0.0, top_k=0, top_p=1.0, seed=7):
    return dict(max_new_tokens=tf.constant(max_new, tf.int32), temperature=tf.fill([batch], temperature),
                top_k=tf.fill([batch], top_k), top_p=tf.fill([batch], top_p),
                seeds=tf.constant([seed + i for i in range(batch)], tf.int64), context=CONTEXT)


def _greedy_by_recompute(lm, prompt, count):
    tokens = list(prompt)
    for _ in range(count):
        logits = lm({"token_ids": tf.constant([tokens]), "padding_mask": tf.ones([1, len(tokens)], tf.bool)})
        logits = logits[0, -1].numpy()
        logits[generation.BANNED_IDS] = -np.inf
        tokens.append(int(np.argmax(logits)))
    return tokens[len(prompt):]


def test_greedy_generation_is_exactly_max_new_tokens_long_and_matches_a_full_recompute(lm):
    prompts = tf.ragged.constant([[3, 7, 8, 9], [3]], dtype=tf.int32)
    generate = tf.function(lambda p: generation.generate(lm, p, **_settings(2, [5, 3])))
    out = generate(prompts).numpy()
    assert out.shape == (2, 5)
    assert out[0].tolist() == _greedy_by_recompute(lm, [3, 7, 8, 9], 5)  # the KV cache changes nothing
    assert out[1, :3].tolist() == _greedy_by_recompute(lm, [3], 3)
    assert out[1, 3:].tolist() == [generation.PAD_ID] * 2  # past its own max_new_tokens
    assert (generate(prompts).numpy() == out).all()  # deterministic


def test_sampling_is_seeded_per_row_and_the_context_bounds_the_length(lm):
    prompts = tf.ragged.constant([[3, 5], [3, 5]], dtype=tf.int32)
    settings = _settings(2, [6, 6], temperature=1.0, seed=0)
    settings["seeds"] = tf.constant([5, 5], tf.int64)
    first = generation.generate(lm, prompts, **settings).numpy()
    assert first[0].tolist() == first[1].tolist()  # same seed, same prompt: same tokens
    assert (generation.generate(lm, prompts, **settings).numpy() == first).all()
    settings["seeds"] = tf.constant([5, 6], tf.int64)
    assert generation.generate(lm, prompts, **settings).numpy()[0].tolist() == first[0].tolist()  # rows independent
    long = generation.generate(lm, prompts, **_settings(2, [50, 0])).numpy()
    assert long.shape == (2, CONTEXT - 1) and (long[1] == generation.PAD_ID).all()
