"""The pretrainer: shapes, the head tied to the token embedding, perplexity = exp(mean target loss), learning."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.nn.backbone import build_backbone
from components.nn.metrics import tfma_perplexity
from components.tasks.masked_lm import model as masked_lm
from components.tasks.masked_lm.masking import MASK_POSITIONS

VOCAB_SIZE, LENGTH, TARGETS = 30, 8, 3
MODEL = config_lib.from_dict({"model": {"preset": "tiny", "hidden_dim": 8, "num_heads": 2,
                                        "intermediate_dim": 16, "dropout": 0.0}}).model


def _pretrainer(nsp):
    keras.utils.set_random_seed(0)
    return masked_lm.build_pretrainer(build_backbone(MODEL, VOCAB_SIZE, LENGTH), TARGETS, nsp)


def _inputs(batch=4):
    rng = np.random.default_rng(0)
    return {features.TOKEN_IDS: rng.integers(5, VOCAB_SIZE, (batch, LENGTH)).astype("int32"),
            features.PADDING_MASK: np.ones((batch, LENGTH), "int32"),
            features.SEGMENT_IDS: np.zeros((batch, LENGTH), "int32"),
            MASK_POSITIONS: np.tile(np.array([1, 4, 6], "int32"), (batch, 1))}


@pytest.mark.parametrize("nsp", [False, True])
def test_outputs_and_the_head_shares_the_token_embedding(nsp):
    model = _pretrainer(nsp)
    outputs = model(_inputs())
    assert outputs[masked_lm.MLM].shape == (4, TARGETS, VOCAB_SIZE) and outputs[masked_lm.MLM].dtype == "float32"
    assert (masked_lm.NSP in outputs) == nsp and (not nsp or outputs[masked_lm.NSP].shape == (4, 2))
    backbone = masked_lm.backbone_of(model)
    head = model.get_layer("mlm_head")
    assert head.token_embedding is backbone.token_embedding
    assert not any(w.shape == (8, VOCAB_SIZE) for w in head.trainable_weights)  # no untied output matrix


def test_perplexity_is_exp_of_the_mean_target_loss_and_padding_targets_do_not_count():
    model = _pretrainer(nsp=False)
    model.compile(optimizer="adam", **masked_lm.compile_kwargs(nsp=False))
    x = _inputs()
    y = np.random.default_rng(1).integers(5, VOCAB_SIZE, (4, TARGETS)).astype("int32")
    weights = np.array([[1, 1, 0]] * 4, "float32")
    results = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    logits = keras.ops.convert_to_numpy(model(x)[masked_lm.MLM])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    losses = -np.take_along_axis(log_probs, y[..., None], -1)[..., 0]  # (4, 3)
    expected = (losses * weights).sum() / weights.sum()
    assert results["loss"] == pytest.approx(expected, rel=1e-4)
    assert results["mlm_perplexity"] == pytest.approx(math.exp(expected), rel=1e-4)


def test_tfma_ratios_on_a_known_case():
    """Two documents: 8 targets that each cost ln 4 (perplexity 4), 4 of them right (accuracy 0.5)."""
    documents = [(2 * math.log(4), 1.0, 2.0), (6 * math.log(4), 3.0, 6.0)]  # (loss sum, correct, targets)
    for numerator, index, exponentiate, expected in ((tfma_perplexity.LOSS_SUM, 0, True, 4.0),
                                                     (tfma_perplexity.CORRECT_COUNT, 1, False, 0.5)):
        combiner = tfma_perplexity._RatioCombiner("key", "", "", numerator, exponentiate)  # noqa: SLF001
        total = combiner.merge_accumulators([(doc[index], doc[2]) for doc in documents])
        assert combiner.extract_output(total) == {"key": pytest.approx(expected)}


def test_loss_falls_on_a_repeated_batch_with_nsp():
    model = _pretrainer(nsp=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), **masked_lm.compile_kwargs(nsp=True))
    x = _inputs(8)
    y = {masked_lm.MLM: x[features.TOKEN_IDS][:, [1, 4, 6]], masked_lm.NSP: np.arange(8) % 2}
    before = model.evaluate(x, y, return_dict=True, verbose=0)
    model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(40), verbose=0)
    after = model.evaluate(x, y, return_dict=True, verbose=0)
    assert after["loss"] < 0.5 * before["loss"]
    assert {"mlm_accuracy", "mlm_perplexity", "nsp_accuracy"} <= set(after)
