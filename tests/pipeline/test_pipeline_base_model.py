"""Wiring of fine-tuning from a pretraining pipeline, read from the compiled pipeline IR (nothing runs)."""
import pytest
from tfx.dsl.compiler import compiler

from components.core import config as config_lib
from components.core.errors import UserError
from pipeline.pipeline import PipelinePaths, create_pipeline

PATHS = PipelinePaths("/tmp/root", "/tmp/metadata.sqlite", "/tmp/serving", "/tmp/data", "*.csv")


def _inputs(overrides):
    """{node id: {input key: [(producer node, [context names queried])]}} of the compiled pipeline."""
    ir = compiler.Compiler().compile(create_pipeline(config_lib.load(None, overrides), PATHS, num_classes=2))
    return {node.pipeline_node.node_info.id: {
        key: [(channel.producer_node_query.id, [q.name.field_value.string_value for q in channel.context_queries])
              for channel in spec.channels]
        for key, spec in node.pipeline_node.inputs.inputs.items()} for node in ir.nodes}


def test_transform_and_trainer_take_the_latest_blessed_model_of_the_pretraining_pipeline():
    nodes = _inputs(["base_model.source=pipeline", "base_model.pipeline_name=pretrain"])
    resolver = nodes["base_model_resolver"]
    queried = sorted(contexts for channels in resolver.values() for _, contexts in channels if contexts)
    assert queried == [["pretrain", "pretrain.Evaluator"], ["pretrain", "pretrain.Trainer"]]
    for consumer in ("Transform", "Trainer"):
        assert [producer for producer, _ in nodes[consumer]["base_model"]] == ["base_model_resolver"]


def test_the_baseline_is_only_ever_this_pipelines_own_model():
    """A resolver's outputs count as its pipeline's artifacts: without naming producers, the resolved pretraining
    model would be found as this pipeline's latest blessed model."""
    for overrides in ([], ["base_model.source=pipeline", "base_model.pipeline_name=pretrain"]):
        baseline = _inputs(overrides)["latest_blessed_model_resolver"]
        contexts = [c for channels in baseline.values() for _, c in channels if c]
        assert sorted(contexts) == [["text-classifier", "text-classifier.Evaluator"],
                                    ["text-classifier", "text-classifier.Trainer"]]


def test_without_a_base_model_nothing_is_resolved_for_transform_or_trainer():
    nodes = _inputs([])
    assert "base_model_resolver" not in nodes
    assert "base_model" not in nodes["Transform"] and "base_model" not in nodes["Trainer"]


@pytest.mark.parametrize("kind", ["masked_lm", "causal_lm"])
def test_a_language_model_continues_from_the_latest_blessed_model_of_another_pipeline(kind):
    nodes = _inputs([f"task={kind}", "base_model.source=pipeline", "base_model.pipeline_name=pretrain"])
    for consumer in ("Transform", "Trainer"):
        assert [producer for producer, _ in nodes[consumer]["base_model"]] == ["base_model_resolver"]


def test_a_masked_lm_continues_from_a_keras_hub_preset():
    nodes = _inputs(["task=masked_lm", "base_model.source=preset", "base_model.preset=/models/bert"])
    assert "base_model_resolver" not in nodes and "base_model" not in nodes["Transform"]


def test_a_causal_lm_refuses_a_keras_hub_preset():
    with pytest.raises(UserError, match="task=causal_lm cannot start from base_model.source=preset, only from "
                                        "base_model.source=pipeline") as error:
        _inputs(["task=causal_lm", "base_model.source=preset", "base_model.preset=/models/bert"])
    assert "another pipeline of this workdir" in error.value.hint
