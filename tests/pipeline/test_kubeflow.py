"""The pipeline compiled for Kubeflow Pipelines v2, read back with KFP's own PipelineSpec/PipelineJob protos."""
import importlib.metadata
import json
import os
import re

import pytest
from croniter import croniter
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from components import tasks
from components.core import config as config_lib
from components.core.errors import UserError
from components.text import readers
from pipeline import kubeflow_runner
from tests import ROOT

TARGET = kubeflow_runner.KubeflowTarget(
    pipeline_root="gs://bucket/tfx", serving_root="gs://bucket/serving", image="europe-docker.pkg.dev/p/r/trainer:1",
    project="my-project", region="europe-west1", temp_location="gs://bucket/tmp")
SPANS = ["data.input_path=gs://bucket/reviews/span-{SPAN}", "data.eval_path=gs://bucket/holdout/eval.csv",
         "schedule.warm_start=true", "schedule.cron=30 2 * * 1"]
BLESSED_MODEL = "latest_blessed_model_resolver-model-resolver"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("kfp"))
    spec_path, recurring_path = kubeflow_runner.compile_pipeline(config_lib.load(None, SPANS), TARGET, 2, out)
    with open(spec_path, encoding="utf-8") as f:
        job = json_format.Parse(f.read(), pipeline_spec_pb2.PipelineJob())  # strict: unknown fields fail
    spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec), pipeline_spec_pb2.PipelineSpec())
    with open(recurring_path, encoding="utf-8") as f:
        return spec, json.load(f), job


def _producers(spec, task: str) -> dict:
    inputs = spec.root.dag.tasks[task].inputs.artifacts
    return {key: (a.task_output_artifact.producer_task, a.task_output_artifact.output_artifact_key)
            for key, a in inputs.items()}


def test_every_component_is_a_task(compiled):
    spec, _, job = compiled
    assert job.display_name == spec.pipeline_info.name == "text-classifier"
    assert set(spec.root.dag.tasks) == {
        "CsvExampleGen", "HoldoutExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomaliesGate",
        "Transform", "Trainer", "latest_blessed_model_resolver-model-blessing-resolver", BLESSED_MODEL,
        "Evaluator", "Pusher"}
    assert set(spec.components) == set(spec.root.dag.tasks)


def test_components_are_wired_as_in_the_local_pipeline(compiled):
    spec, _, _ = compiled
    assert _producers(spec, "Transform")["examples"] == ("CsvExampleGen", "examples")
    assert _producers(spec, "Trainer") == {
        "examples": ("Transform", "transformed_examples"), "transform_graph": ("Transform", "transform_graph"),
        "schema": ("SchemaGen", "schema"), "base_model": (BLESSED_MODEL, "model")}  # warm start
    assert _producers(spec, "Evaluator") == {
        "examples": ("HoldoutExampleGen", "examples"), "model": ("Trainer", "model"),
        "baseline_model": (BLESSED_MODEL, "model")}
    assert _producers(spec, "Pusher") == {"model": ("Trainer", "model"), "model_blessing": ("Evaluator", "blessing")}
    assert "AnomaliesGate" in spec.root.dag.tasks["Transform"].dependent_tasks
    example_gen = spec.root.dag.tasks["CsvExampleGen"].inputs.parameters
    assert example_gen["input_base"].runtime_value.constant_value.string_value == "gs://bucket"
    assert "reviews/span-{SPAN}/*.csv" in example_gen["input_config"].runtime_value.constant_value.string_value


def test_every_container_runs_the_trainer_image_with_beam_on_dataflow(compiled):
    spec, _, _ = compiled
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    containers = [e["container"] for e in executors.values() if "container" in e]
    assert len(containers) == len(spec.root.dag.tasks) - 2  # every task but the two resolvers
    assert {c["image"] for c in containers} == {TARGET.image}
    beam = {"--runner=DataflowRunner", "--project=my-project", "--region=europe-west1",
            "--temp_location=gs://bucket/tmp", f"--sdk_container_image={TARGET.image}"}
    transform = executors["Transform_executor"]["container"]["args"]
    assert beam <= set(transform)


def test_recurring_run_carries_the_schedule_and_the_same_pipeline(compiled):
    spec, recurring, job = compiled
    assert recurring["trigger"]["cron_schedule"]["cron"] == "0 30 2 * * 1"  # KFP's cron leads with seconds
    assert croniter.is_valid(recurring["trigger"]["cron_schedule"]["cron"].split(" ", 1)[1])
    assert (recurring["max_concurrency"], recurring["no_catchup"], recurring["mode"]) == ("1", True, "ENABLE")
    assert recurring["pipeline_spec"] == json_format.MessageToDict(job.pipeline_spec)
    assert recurring["runtime_config"]["pipeline_root"] == TARGET.pipeline_root


@pytest.mark.parametrize("name", ["text_classifier", "Text-Classifier", "-text", "t" * 129, "text.classifier"])
def test_invalid_pipeline_names_are_refused(tmp_path, name):
    config = config_lib.load(None, SPANS + [f"pipeline_name={name}"])
    with pytest.raises(UserError, match="not a valid Kubeflow pipeline name"):
        kubeflow_runner.compile_pipeline(config, TARGET, 2, str(tmp_path))
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("overrides, message", [
    (["data.train_spans=3"], "rolling window"),
    (["data.input_path=''"], "data.input_path, which is empty"),
])
def test_what_kubeflow_cannot_run_is_refused(tmp_path, overrides, message):
    config = config_lib.load(None, SPANS + overrides)
    with pytest.raises(UserError, match=message):
        kubeflow_runner.compile_pipeline(config, TARGET, 2, str(tmp_path))


def test_trainer_image_is_built_on_the_locked_beam_and_python():
    with open(os.path.join(ROOT, "serving", "deploy", "Dockerfile.trainer"), encoding="utf-8") as f:
        dockerfile = f.read()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    beam = importlib.metadata.version("apache-beam")
    assert base == f"apache/beam_python3.10_sdk:{beam}"  # Dataflow refuses workers of another SDK version
    with open(os.path.join(ROOT, "requirements.lock"), encoding="utf-8") as f:
        assert f"apache-beam=={beam}\n" in f.read()
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile


KIND_INPUTS = {"classification": "reviews/span-{SPAN}", "token_classification": "sentences/span-{SPAN}",
               "masked_lm": "corpus/span-{SPAN}", "causal_lm": "corpus/span-{SPAN}",
               "translation": "pairs/span-{SPAN}"}
KIND_LABELS = {"classification": 2, "token_classification": 5}  # what --num_classes says; LMs have no labels


@pytest.mark.parametrize("kind", config_lib.TASKS)
def test_every_task_kind_compiles_with_its_reader_and_only_the_sections_it_reads(tmp_path, kind):
    config = config_lib.load(kind, [f"data.input_path=gs://bucket/{KIND_INPUTS[kind]}", "pipeline_name=kind-check"])
    spec_path, _ = kubeflow_runner.compile_pipeline(config, TARGET, KIND_LABELS.get(kind, 0), str(tmp_path))
    with open(spec_path, encoding="utf-8") as f:
        job = json_format.Parse(f.read(), pipeline_spec_pb2.PipelineJob())  # strict: unknown fields fail
    spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec), pipeline_spec_pb2.PipelineSpec())
    task = tasks.get(kind)
    example_gen = "CsvExampleGen" if task.input_format == "csv" else "FileBasedExampleGen"
    assert {example_gen, "Transform", "Trainer", "Evaluator", "Pusher"} <= set(spec.root.dag.tasks)
    pattern = readers.FORMATS[task.input_format].directory_pattern
    inputs = spec.root.dag.tasks[example_gen].inputs.parameters
    assert f"span-{{SPAN}}/{pattern}" in inputs["input_config"].runtime_value.constant_value.string_value
    for component, reads in (("Transform", task.transform_reads), ("Trainer", task.trainer_reads)):
        parameters = spec.root.dag.tasks[component].inputs.parameters
        custom = json.loads(parameters["custom_config"].runtime_value.constant_value.string_value)
        assert set(custom) == {"task", *reads}, component  # e.g. evaluation.* never voids their cache


def test_a_classifier_without_a_label_count_is_refused(tmp_path):
    with pytest.raises(UserError, match="at least 2"):
        kubeflow_runner.compile_pipeline(config_lib.load(None, SPANS), TARGET, 0, str(tmp_path))
