"""Compiles the same create_pipeline(...) for Kubeflow Pipelines v2 (or Vertex AI Pipelines).

Output: `<pipeline_name>.json`, the PipelineJob whose components all run in our trainer image (Beam on Dataflow, with
that image as the workers' SDK container), and `<pipeline_name>.recurring-run.json`, the KFP recurring run that fires
it on schedule.cron. Compiling reads nothing but the config: the data, roots and image are URIs the pods can reach.
"""
import dataclasses
import json
import os
import re
from typing import List, Tuple

from tfx import v1 as tfx

from components import tasks
from components.core.config import Config
from components.core.errors import UserError
from components.text import readers
from pipeline import spans
from pipeline.pipeline import PipelinePaths, create_pipeline

PIPELINE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")  # what KFP accepts as a pipeline name


@dataclasses.dataclass(frozen=True)
class KubeflowTarget:
    pipeline_root: str  # e.g. gs://bucket/tfx: artifacts and ML Metadata's URIs
    serving_root: str  # the Pusher writes <serving_root>/<model_name>/<version>/, TF Serving's base_path reads it
    image: str  # built from serving/deploy/Dockerfile.trainer
    project: str  # Dataflow's Google Cloud project, region and scratch space
    region: str
    temp_location: str


def compile_pipeline(config: Config, target: KubeflowTarget, num_classes: int, output_dir: str) -> Tuple[str, str]:
    """Writes the PipelineJob and the recurring run into `output_dir`; returns their paths."""
    _check(config)
    if not hasattr(tfx.orchestration.experimental, "KubeflowV2DagRunner"):
        raise UserError("TFX's Kubeflow V2 compiler is unavailable: kfp.pipeline_spec does not import",
                        hint="pip install kfp-pipeline-spec==0.2.2 (never tfx[kfp] / kfp>=2: they need protobuf 6)")
    directory_pattern = readers.FORMATS[tasks.get(config.task).input_format].directory_pattern
    base, train, evaluation = spans.example_gen_inputs(config.data.input_path, config.data.eval_path,
                                                       directory_pattern)
    paths = PipelinePaths(pipeline_root=target.pipeline_root, metadata_path="", serving_root=target.serving_root,
                          input_base=base, train_pattern=train, eval_pattern=evaluation,
                          schema_path=config.data.schema_path or None)  # metadata: KFP brings its own store
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=target.image),
        output_dir=output_dir, output_filename=f"{config.pipeline_name}.json")
    job = runner.run(create_pipeline(config, paths, num_classes, beam_args(target)), write_out=True)
    recurring_path = os.path.join(output_dir, f"{config.pipeline_name}.recurring-run.json")
    with open(recurring_path, "w", encoding="utf-8") as f:
        json.dump(recurring_run(config, job, target.pipeline_root), f, indent=2)
    return os.path.join(output_dir, f"{config.pipeline_name}.json"), recurring_path


def beam_args(target: KubeflowTarget) -> List[str]:
    """Dataflow workers run our image, so Transform's tensorflow-text ops and our code are there."""
    return ["--runner=DataflowRunner", f"--project={target.project}", f"--region={target.region}",
            f"--temp_location={target.temp_location}", f"--sdk_container_image={target.image}"]


def recurring_run(config: Config, job: dict, pipeline_root: str) -> dict:
    """KFP v2beta1 RecurringRun: the local schedule's cron, one run at a time, missed firings skipped.

    A run whose span is unchanged costs little: ExampleGen's fingerprint is the same, so the rest is cached.
    """
    return {
        "display_name": f"{config.pipeline_name}-retraining",
        "description": f"Retrains {config.pipeline_name} on the newest span; cron (UTC) {config.schedule.cron!r}",
        "mode": "ENABLE",
        "max_concurrency": "1",
        "no_catchup": True,
        "trigger": {"cron_schedule": {"cron": f"0 {config.schedule.cron}"}},  # KFP's cron leads with seconds
        "pipeline_spec": job["pipelineSpec"],
        "runtime_config": {"pipeline_root": pipeline_root},
    }


def _check(config: Config) -> None:
    if not PIPELINE_NAME.fullmatch(config.pipeline_name):
        suggestion = re.sub("[^a-z0-9-]+", "-", config.pipeline_name.lower()).strip("-")
        raise UserError(f"pipeline_name {config.pipeline_name!r} is not a valid Kubeflow pipeline name: lowercase "
                        "letters, digits and '-', starting with a letter or digit, at most 128 characters",
                        hint=f"--set pipeline_name={suggestion or 'text-classifier'}")
    if not config.data.input_path:
        raise UserError("Kubeflow reads the data from data.input_path, which is empty (the demo data is local)",
                        hint="--set data.input_path=gs://<bucket>/<data>/span-{SPAN}")
    if config.data.train_spans != 1:
        raise UserError(f"data.train_spans={config.data.train_spans}: TFX 1.16's Kubeflow V2 compiler supports only "
                        "the latest-artifact and latest-blessed-model resolvers, not a rolling window over spans",
                        hint="--set data.train_spans=1 for Kubeflow (each run trains on the newest span)")
