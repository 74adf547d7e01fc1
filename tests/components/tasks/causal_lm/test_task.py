"""The causal-LM task kind: its Transform step through real Beam, its config keys, and its TFMA perplexity gate."""
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import config as config_lib
from components.core import features
from components.core.errors import UserError
from components.nn.metrics import tfma_perplexity
from components.nn.metrics.lm_eval_config import build_lm_eval_config
from components.tfx import transform as transform_module
from tests.components.text.tokenization.test_wordpiece_learner import GOLDEN_VOCAB, TEXTS

CONFIG = config_lib.from_dict({"task": "causal_lm", "tokenizer": {
    "vocab_size": 60, "max_seq_length": 8, "min_word_count": 2}})


def test_transform_outputs_each_documents_word_pieces_untruncated(tmp_path):
    """The reader's raw features in, variable-length ids out: no [CLS]/[SEP], no padding, no max_seq_length cut."""
    rows = [{"text": text, "sentences": [text], "doc_id": f"d{i}"} for i, text in enumerate(TEXTS)]
    spec = {"text": tf.io.FixedLenFeature([], tf.string), "sentences": tf.io.VarLenFeature(tf.string),
            "doc_id": tf.io.FixedLenFeature([], tf.string)}
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        (transformed, _), transform_fn = (rows, tft.DatasetMetadata.from_feature_spec(spec)) | \
            tft_beam.AnalyzeAndTransformDataset(lambda x: transform_module.preprocessing_fn(x, CONFIG.to_dict()))
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "transform"))
    tft_output = tft.TFTransformOutput(str(tmp_path / "transform"))
    assert tft_output.transformed_feature_spec() == {features.TOKEN_IDS: tf.io.VarLenFeature(tf.int64),
                                                     features.NUM_PIECES: tf.io.FixedLenFeature([], tf.int64)}
    assert tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB) == [t.encode() for t in GOLDEN_VOCAB]
    tokens = [[GOLDEN_VOCAB[i] for i in row[features.TOKEN_IDS]] for row in transformed]
    assert tokens[1] == ["the", "film", "was", "bad", "."]
    assert tokens[3] == ["bad", "[UNK]", "[UNK]", "the", "movie", "was", "[UNK]", "."]  # 8 pieces: nothing cut
    assert [int(row[features.NUM_PIECES]) for row in transformed] == [len(row) for row in tokens]
    assert tokens[5] == ["the", "w", "##o", "##r", "##s", "##t", "film", ",", "[UNK]"]


@pytest.mark.parametrize("override, message", [
    ("evaluation.max_perplexity=0.5", "evaluation.max_perplexity must be >= 1"),
    ("evaluation.max_perplexity_increase=-0.1", "evaluation.max_perplexity_increase must be >= 0"),
    ("data.document_split=sentence", "data.document_split must be one of"),
    ("training.max_minutes=-1", "training.max_minutes must be >= 0"),
])
def test_lm_config_keys_are_validated(override, message):
    with pytest.raises(UserError, match=message):
        config_lib.load(None, ["task=causal_lm", override])


def test_the_preset_loads():
    preset = config_lib.preset_path("causal_lm")
    config = config_lib.load(preset, ["data.input_path=corpus/"])
    assert config.task == "causal_lm" and config.data.document_split == "blank_line"


def test_perplexity_gates_lower_is_better_against_the_baseline():
    config = config_lib.load(None, ["task=causal_lm", "evaluation.max_perplexity=80",
                                    "evaluation.max_perplexity_increase=0.1"])
    eval_config = build_lm_eval_config(config)
    (spec,) = eval_config.model_specs
    assert (spec.signature_name, spec.label_key) == ("score_examples", "")
    (metric,) = [m for m in eval_config.metrics_specs[0].metrics if m.class_name == "Perplexity"]
    assert metric.threshold.value_threshold.upper_bound.value == 80
    assert metric.threshold.change_threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER
    assert metric.threshold.change_threshold.relative.value == pytest.approx(0.1)


def test_tfma_perplexity_is_exp_of_total_loss_over_total_tokens():
    (computation,) = tfma_perplexity.Perplexity().computations(eval_config=tfma.EvalConfig(), model_names=[""],
                                                               output_names=[""])
    combiner = computation.combiner
    batches = [{"loss_sum": np.array([6.0, 2.0]), "token_count": np.array([3.0, 1.0])},
               {"loss_sum": np.array([4.0]), "token_count": np.array([4.0])}]
    accumulators = []
    for predictions in batches:
        element = tfma.metrics.StandardMetricInputs({tfma.PREDICTIONS_KEY: predictions})
        accumulators.append(combiner.add_input(combiner.create_accumulator(), element))
    (value,) = combiner.extract_output(combiner.merge_accumulators(accumulators)).values()
    assert value == pytest.approx(math.exp(12.0 / 8.0))  # documents weigh by their tokens
