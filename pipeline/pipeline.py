"""create_pipeline: wiring only. It reads no files, environment or clock; runners own all of that."""
import dataclasses
from typing import List, Optional, Sequence

from tfx import v1 as tfx
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.types.channel import ExternalPipelineChannel

from components import tasks
from components.core import config as config_lib
from components.core.config import SPAN, Config
from components.core.errors import UserError
from components.text import readers
from components.text.readers import reader_config
from components.tfx.anomalies_gate import AnomaliesGate
from components.tfx.transform_component import Transform
from pipeline import beam_options
from pipeline.spans import LatestSpans

PREPROCESSING_FN = "components.tfx.transform.preprocessing_fn"  # by dotted path: TFX imports them in its executors
RUN_FN = "components.tfx.trainer.run_fn"
TRAINER, EVALUATOR = "Trainer", "Evaluator"  # the components' ids, which resolvers name as producers


@dataclasses.dataclass(frozen=True)
class PipelinePaths:
    pipeline_root: str
    metadata_path: str
    serving_root: str  # the Pusher writes <serving_root>/<model_name>/<version>/
    input_base: str  # the directory ExampleGen reads
    train_pattern: str  # glob under input_base
    eval_pattern: Optional[str] = None  # None: hash-split the train files
    schema_path: Optional[str] = None  # None: SchemaGen infers the schema


def create_pipeline(config: Config, paths: PipelinePaths, num_classes: int,
                    beam_pipeline_args: Optional[List[str]] = None) -> tfx.dsl.Pipeline:
    task = tasks.get(config.task)
    _check_base_model_source(config, task.base_model_sources)
    # Transform and Trainer get only the sections the task kind reads, so a threshold change keeps their cache.
    transform_config = config_lib.sections(config, task.transform_reads)
    trainer_config = config_lib.sections(config, task.trainer_reads)
    example_gen = _example_gen(task.input_format, config, input_base=paths.input_base,
                               input_config=_input_config(paths), output_config=_output_config(config, paths))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if paths.schema_path:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=paths.schema_path)
    else:
        schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"])
    base_model = _base_model_resolver(config)
    span_window = _span_window(config, example_gen)
    transform = Transform(
        examples=(span_window or example_gen).outputs["examples"], schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN, custom_config=transform_config,
        base_model=base_model.outputs["model"] if base_model else None)
    transform.add_upstream_node(anomalies_gate)
    # Produced by this pipeline's Trainer and Evaluator: a resolver's outputs also count as the pipeline's artifacts,
    # so without the producers the base model resolved from a pretraining pipeline would become the baseline.
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model, producer_component_id=TRAINER,
                              output_key="model"),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing,
                                       producer_component_id=EVALUATOR, output_key="blessing"),
    ).with_id("latest_blessed_model_resolver")
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        base_model=(base_model or baseline).outputs["model"] if base_model or config.schedule.warm_start else None,
        custom_config=trainer_config)
    holdout_gen = _holdout_example_gen(task.input_format, config, paths)
    evaluator = tfx.components.Evaluator(
        examples=(holdout_gen or example_gen).outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        example_splits=["eval"],
        eval_config=task.eval_config(config, num_classes))
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(filesystem=tfx.proto.PushDestination.Filesystem(
            base_directory=f"{paths.serving_root}/{config.serving.model_name}")))
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=paths.pipeline_root,
        components=list(filter(None, [
            example_gen, statistics_gen, schema_gen, example_validator, anomalies_gate, span_window, base_model,
            transform, baseline, trainer, holdout_gen, evaluator, pusher])),
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(paths.metadata_path),
        beam_pipeline_args=beam_pipeline_args or list(beam_options.IN_MEMORY),
    )


def _check_base_model_source(config: Config, sources: Sequence[str]) -> None:
    """Each kind declares which bases it can start from (e.g. a causal LM only from another causal LM's pipeline)."""
    source = config.base_model.source
    if source != "none" and source not in sources:
        raise UserError(f"task={config.task} cannot start from base_model.source={source}, only from "
                        + " or ".join(f"base_model.source={s}" for s in sources),
                        hint="base_model.source=pipeline takes a blessed model of another pipeline of this workdir "
                             "(base_model.pipeline_name); base_model.source=none trains from scratch")


def _base_model_resolver(config: Config):
    """With base_model.source=pipeline: the latest blessed model of that pipeline, found in this ML Metadata store
    (the pretraining run must share the workdir). Transform tokenizes with its vocabulary; the Trainer warm-starts."""
    if config.base_model.source != "pipeline":
        return None
    other = dict(owner="local", pipeline_name=config.base_model.pipeline_name)  # owner: only remote stores use it
    return tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=ExternalPipelineChannel(tfx.types.standard_artifacts.Model, producer_component_id=TRAINER,
                                      output_key="model", **other),
        model_blessing=ExternalPipelineChannel(tfx.types.standard_artifacts.ModelBlessing,
                                               producer_component_id=EVALUATOR, output_key="blessing", **other),
    ).with_id("base_model_resolver")


def _example_gen(input_format: str, config: Config, **splits):
    executor = readers.FORMATS[input_format].executor
    if executor is None:
        return tfx.components.CsvExampleGen(**splits)
    return FileBasedExampleGen(
        custom_executor_spec=executor_spec.BeamExecutorSpec(readers.load(executor)),
        custom_config=reader_config.pack(dataclasses.asdict(config.data)), **splits)


def _span_window(config: Config, example_gen):
    """With data.train_spans > 1: the newest spans ExampleGen ingested in any run, this one's included."""
    if config.data.train_spans == 1:
        return None
    window = tfx.dsl.Resolver(
        strategy_class=LatestSpans, config={"num_spans": config.data.train_spans},
        examples=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Examples, producer_component_id=example_gen.id,
                                 output_key="examples"),  # not this run's output channel: that holds one span
    ).with_id("span_window_resolver")
    window.add_upstream_node(example_gen)
    return window


def _holdout_example_gen(input_format: str, config: Config, paths: PipelinePaths):
    """With spans, a fixed eval set gets its own ExampleGen, so each candidate and its baseline meet the same rows."""
    if not (paths.eval_pattern and _has_spans(paths)):
        return None
    return _example_gen(
        input_format, config, input_base=paths.input_base,
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="eval", pattern=paths.eval_pattern)]),
        output_config=tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
            tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1)])),
    ).with_id("HoldoutExampleGen")


def _has_spans(paths: PipelinePaths) -> bool:
    return SPAN in paths.train_pattern


def _input_config(paths: PipelinePaths):
    if paths.eval_pattern and not _has_spans(paths):
        return tfx.proto.Input(splits=[tfx.proto.Input.Split(name="train", pattern=paths.train_pattern),
                                       tfx.proto.Input.Split(name="eval", pattern=paths.eval_pattern)])
    return tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single_split", pattern=paths.train_pattern)])


def _output_config(config: Config, paths: PipelinePaths):
    if paths.eval_pattern and not _has_spans(paths):
        return None  # splits come from the input patterns
    eval_share = config.data.eval_percent
    return tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
        tfx.proto.SplitConfig.Split(name="train", hash_buckets=100 - eval_share),
        tfx.proto.SplitConfig.Split(name="eval", hash_buckets=eval_share)]))
