"""One validated, frozen config for the whole pipeline.

Layers: dataclass defaults -> a YAML preset (each task kind's own, components/tasks/<kind>/preset.yaml) -> `key=value`
overrides from the CLI. The whole config is validated once, where it is loaded. Transform and Trainer receive, as
`custom_config` (a plain dict ML Metadata records), only the sections their task kind declares it reads
(`sections`), so changing e.g. a threshold does not void their cache; `from_sections` rebuilds such a config with
the other sections withheld, so reading an undeclared section fails loudly instead of silently taking defaults.
"""
from __future__ import annotations

import dataclasses
import os
import pkgutil
from typing import Any, Iterable, Mapping, Optional, Sequence

import yaml
from croniter import croniter

from components.core.errors import UserError

# Task kinds are the packages under components/tasks/ (found on disk, not imported: core imports nothing of ours).
TASKS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tasks")
TASKS = tuple(sorted(module.name for module in pkgutil.iter_modules([TASKS_DIR]) if module.ispkg))
STRATEGIES = ("none", "mirrored", "multi_worker", "tpu")
EARLY_STOPPING_MODES = ("auto", "min", "max")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
POOLINGS = ("cls", "mean")
HEADS = ("softmax", "crf")  # token classification
BASE_MODEL_SOURCES = ("none", "pipeline", "preset")
TAG_SCHEMES = ("auto", "bio", "bioes")  # as components/text/readers/tag_schemes.py normalizes them
BEAM_MODES = ("auto", "in_memory", "multi_processing")  # the local DirectRunner's (pipeline/beam_options.py)
DOCUMENT_SPLITS = ("file", "blank_line")  # as components/text/readers/text_documents.py reads them
BLEU_TOKENIZERS = ("13a", "intl", "zh", "char", "none")  # sacrebleu's, as evaluation.bleu_tokenizer names them

SPAN = "{SPAN}"  # the span number placeholder in data.input_path, as TFX ExampleGen reads it

# Backbone shapes by name; any field can still be overridden one by one.
MODEL_PRESETS = {
    "tiny": dict(num_layers=2, hidden_dim=64, num_heads=2, intermediate_dim=256),
    "small": dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the labelled text is and what its columns are called."""
    input_path: str = ""  # a CSV file or a directory of CSV files; empty means the demo data
    eval_path: str = ""  # optional CSV file/directory for evaluation; empty: hash-split eval_percent of input_path
    schema_path: str = ""  # optional curated schema.pbtxt; empty: inferred by SchemaGen
    train_spans: int = 1  # with {SPAN} in input_path (e.g. data/span-{SPAN}): train on the newest N spans
    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str = ""  # classification of sentence pairs (NLI, paraphrase, question-passage): the 2nd text
    eval_percent: int = 20  # hash-bucketed share of rows held out for evaluation
    token_column_index: int = 0  # CoNLL files: the column of the words (negative counts from the end)
    tag_column_index: int = -1  # CoNLL files: the column of the tags
    tag_scheme: str = "auto"  # CoNLL files: bio (IOB1 reads as bio) | bioes | auto; repaired on input (tag_schemes.py)
    document_split: str = "file"  # text corpora: a document is a whole file, or a "blank_line"-separated block
    min_document_words: int = 3  # text corpora: shorter documents are skipped
    source_column: str = "source"  # parallel text (TSV/CSV): the column to translate from
    target_column: str = "target"  # parallel text: the column holding its translation

    def __post_init__(self):
        _require(0 < self.eval_percent < 100, "data.eval_percent must be between 1 and 99")
        self._check_spans()
        _require(self.document_split in DOCUMENT_SPLITS, f"data.document_split must be one of {DOCUMENT_SPLITS}")
        _require(self.min_document_words >= 1, "data.min_document_words must be at least 1")
        _require(self.text_column != self.label_column, "data.text_column and data.label_column must differ")
        _require(self.text_pair_column not in (self.text_column, self.label_column),
                 "data.text_pair_column must differ from data.text_column and data.label_column (empty: one text)")
        _require(bool(self.source_column) and bool(self.target_column) and self.source_column != self.target_column,
                 "data.source_column and data.target_column must be two different, non-empty column names")
        _require(self.tag_scheme in TAG_SCHEMES, f"data.tag_scheme must be one of {TAG_SCHEMES}")
        _require(self.token_column_index != self.tag_column_index,
                 "data.token_column_index and data.tag_column_index must differ")

    def _check_spans(self) -> None:
        """Only a plain {SPAN} in the last path part: that is what span discovery and Kubeflow both understand."""
        last = self.input_path.rstrip("/").rsplit("/", 1)[-1]
        _require(self.input_path.count(SPAN) == last.count(SPAN) <= 1 and "{" not in last.replace(SPAN, ""),
                 f"data.input_path may hold {SPAN} once, in its last part (e.g. data/span-{SPAN} or "
                 f"data/reviews-{SPAN}.csv); other placeholders are not supported")
        _require(SPAN not in self.eval_path, f"data.eval_path is a fixed evaluation set and may not hold {SPAN}")
        _require(self.train_spans >= 1, "data.train_spans must be at least 1")
        _require(self.train_spans == 1 or SPAN in self.input_path,
                 f"data.train_spans > 1 needs {SPAN} in data.input_path (a rolling window over spans)")


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    """WordPiece learned from the training split, applied in the Transform graph."""
    vocab_size: int = 8000
    lowercase: bool = True
    max_seq_length: int = 64
    min_word_count: int = 2  # words rarer than this do not shape the vocabulary
    # Translation: the source is cut to max_seq_length pieces with its [CLS] and [SEP]; the target to
    # max_target_length decoder positions (0: max_seq_length), which also bounds what decoding generates.
    max_target_length: int = 0
    shared_vocabulary: bool = True  # translation: one vocabulary learned from both sides, or one per side

    def __post_init__(self):
        _require(self.vocab_size >= 16, "tokenizer.vocab_size must be at least 16")
        _require(self.max_seq_length >= 3, "tokenizer.max_seq_length must be at least 3 ([CLS] x [SEP])")
        _require(self.min_word_count >= 1, "tokenizer.min_word_count must be at least 1")
        _require(self.max_target_length == 0 or self.max_target_length >= 2,
                 "tokenizer.max_target_length must be 0 (max_seq_length) or at least 2")

    @property
    def target_length(self) -> int:
        """Decoder positions of a translation model."""
        return self.max_target_length or self.max_seq_length


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A keras-hub BERT-style encoder; `preset` fills the shape, explicit fields win."""
    preset: str = "small"
    num_layers: Optional[int] = None
    hidden_dim: Optional[int] = None
    num_heads: Optional[int] = None
    intermediate_dim: Optional[int] = None
    dropout: float = 0.1
    pooling: str = "cls"
    head: str = "softmax"  # token classification: per-token softmax or a linear-chain "crf"
    bio_constraints: bool = False  # crf head: forbid transitions no valid BIO/BIOES sequence makes
    # token classification: the encoder also sees each word's shape (capitalized, all capitals, lowercase, number...)
    # in its input embeddings, the cue for names the training data never had
    word_shapes: bool = False
    # translation: the encoder, the decoder and the output projection share one token embedding (needs one
    # vocabulary for both sides: tokenizer.shared_vocabulary and no base model)
    shared_embeddings: bool = False

    def __post_init__(self):
        _require(self.preset in MODEL_PRESETS, f"model.preset must be one of {sorted(MODEL_PRESETS)}")
        _require(0.0 <= self.dropout < 1.0, "model.dropout must be in [0, 1)")
        _require(self.pooling in POOLINGS, f"model.pooling must be one of {POOLINGS}")
        _require(self.head in HEADS, f"model.head must be one of {HEADS}")
        _require(self.head == "crf" or not self.bio_constraints, "model.bio_constraints needs model.head=crf")
        shape = self.shape()
        _require(all(v > 0 for v in shape.values()), "model sizes must be positive")
        _require(shape["hidden_dim"] % shape["num_heads"] == 0, "model.hidden_dim must be divisible by model.num_heads")

    def shape(self) -> dict:
        """The preset's sizes with explicit overrides applied."""
        return {k: getattr(self, k) or v for k, v in MODEL_PRESETS[self.preset].items()}


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    batch_size: int = 32  # global batch, split across replicas
    epochs: int = 3
    learning_rate: float = 3e-4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    strategy: str = "none"
    mixed_precision: str = "float32"
    jit_compile: bool = False  # measured: XLA is slower for these shapes on CPU (see BUILD.md)
    seed: int = 42
    tpu: str = ""  # strategy=tpu: TPU name or grpc:// address, "local" on a TPU VM, "" from the environment
    accumulation_steps: int = 1  # k > 1: one optimizer update per k batches, the same as one k times larger batch
    clipnorm: float = 1.0  # clip the global gradient norm (after summing replicas) to this; 0 turns clipping off
    steps_per_execution: int = 1  # training steps per tf.function call (measured: see BUILD.md)
    checkpoint_every_steps: int = 500  # optimizer steps between resumable checkpoints; 0: only at epoch ends
    # The eval-split metric (as Keras logs it, e.g. val_loss) whose best epoch is kept and that early stopping
    # follows; "": the task's headline metric, the one the Evaluator gates on (accuracy, entity F1, perplexity).
    early_stopping_monitor: str = ""
    early_stopping_mode: str = "auto"  # "auto": the headline's direction; else lower is better for names with "loss"
    early_stopping_patience: int = 2  # epochs without improvement before stopping; 0 turns early stopping off
    model_parallel: str = ""  # "DATAxMODEL" device mesh, e.g. "1x8": shards weights (JAX backend only)
    label_all_pieces: bool = False  # token classification: later word pieces learn I-X (BIO tags) instead of nothing
    max_minutes: float = 0.0  # > 0: stop fitting after this much training time (the best eval weights are kept)
    freeze_backbone_steps: int = 0  # with a base model: the backbone gets no gradient for this many first steps
    label_smoothing: float = 0.0  # translation: this share of each target's probability spread over the vocabulary

    def __post_init__(self):
        _require(self.batch_size > 0 and self.epochs > 0, "training.batch_size and training.epochs must be positive")
        _require(self.learning_rate > 0, "training.learning_rate must be positive")
        _require(0.0 <= self.warmup_fraction < 1.0, "training.warmup_fraction must be in [0, 1)")
        _require(self.strategy in STRATEGIES, f"training.strategy must be one of {STRATEGIES}")
        _require(self.mixed_precision in PRECISIONS, f"training.mixed_precision must be one of {PRECISIONS}")
        _require(self.strategy == "tpu" or not self.tpu, "training.tpu needs training.strategy=tpu")
        _require(self.accumulation_steps >= 1, "training.accumulation_steps must be at least 1")
        _require(self.clipnorm >= 0.0, "training.clipnorm must be >= 0 (0 turns clipping off)")
        _require(self.steps_per_execution >= 1, "training.steps_per_execution must be at least 1")
        _require(self.checkpoint_every_steps >= 0, "training.checkpoint_every_steps must be >= 0")
        _require(not self.early_stopping_monitor or self.early_stopping_monitor.startswith("val_"),
                 "training.early_stopping_monitor must name an eval-split metric, e.g. val_loss or val_accuracy "
                 "(empty: the task's headline metric)")
        _require(self.early_stopping_mode in EARLY_STOPPING_MODES,
                 f"training.early_stopping_mode must be one of {EARLY_STOPPING_MODES}")
        _require(self.early_stopping_patience >= 0, "training.early_stopping_patience must be >= 0 (0: off)")
        _require(self.max_minutes >= 0.0, "training.max_minutes must be >= 0 (0: no time limit)")
        _require(self.freeze_backbone_steps >= 0, "training.freeze_backbone_steps must be >= 0")
        _require(0.0 <= self.label_smoothing < 1.0, "training.label_smoothing must be in [0, 1)")
        _require(not self.model_parallel or _is_mesh(self.model_parallel),
                 "training.model_parallel must be a device mesh DATAxMODEL of positive sizes, e.g. 1x8")


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """The gate a model must pass to be pushed."""
    min_accuracy: float = 0.5  # value threshold
    max_accuracy_drop: float = 0.02  # change threshold against the blessed baseline
    min_entity_f1: float = 0.5  # token classification: value threshold on entity-level micro F1
    max_entity_f1_drop: float = 0.02  # token classification: change threshold against the blessed baseline
    max_perplexity: float = 1000.0  # causal/masked LM: value threshold on the eval split's token perplexity
    max_perplexity_increase: float = 0.05  # causal/masked LM: change threshold, a fraction above the blessed baseline's
    min_masked_accuracy: float = 0.0  # masked LM: value threshold; the change threshold is max_accuracy_drop
    min_bleu: float = 0.0  # translation: value threshold on the eval split's corpus BLEU (sacrebleu, 0-100)
    max_bleu_drop: float = 1.0  # translation: change threshold, BLEU points below the blessed baseline's
    min_chrf: float = 0.0  # translation: value threshold on corpus chrF (sacrebleu, 0-100)
    max_chrf_drop: float = 100.0  # translation: change threshold, chrF points below the baseline's (100: off)
    bleu_tokenizer: str = "13a"  # translation: sacrebleu's tokenizer for BLEU; "zh" for Chinese targets

    def __post_init__(self):
        _require(0.0 <= self.min_accuracy <= 1.0, "evaluation.min_accuracy must be in [0, 1]")
        _require(self.max_accuracy_drop >= 0.0, "evaluation.max_accuracy_drop must be >= 0")
        _require(0.0 <= self.min_entity_f1 <= 1.0, "evaluation.min_entity_f1 must be in [0, 1]")
        _require(self.max_entity_f1_drop >= 0.0, "evaluation.max_entity_f1_drop must be >= 0")
        _require(self.max_perplexity >= 1.0, "evaluation.max_perplexity must be >= 1 (perplexity never is lower)")
        _require(self.max_perplexity_increase >= 0.0, "evaluation.max_perplexity_increase must be >= 0")
        _require(0.0 <= self.min_masked_accuracy <= 1.0, "evaluation.min_masked_accuracy must be in [0, 1]")
        _require(0.0 <= self.min_bleu <= 100.0 and 0.0 <= self.min_chrf <= 100.0,
                 "evaluation.min_bleu and evaluation.min_chrf must be in [0, 100]")
        _require(self.max_bleu_drop >= 0.0 and self.max_chrf_drop >= 0.0,
                 "evaluation.max_bleu_drop and evaluation.max_chrf_drop must be >= 0")
        _require(self.bleu_tokenizer in BLEU_TOKENIZERS, f"evaluation.bleu_tokenizer must be one of {BLEU_TOKENIZERS}")


@dataclasses.dataclass(frozen=True)
class PretrainingConfig:
    """Masked-LM pretraining: which pieces become targets, and whether next-sentence prediction is learned too."""
    mask_rate: float = 0.15  # share of each segment's non-special pieces that become targets (80/10/10 as BERT)
    max_predictions_per_seq: int = 20  # at most this many targets per segment
    whole_word_masking: bool = False  # mask all pieces of a word ("##" pieces join the one before) or none
    nsp: bool = False  # segment pairs [CLS] A [SEP] B [SEP]: is B the text that follows A, or from another document?

    def __post_init__(self):
        _require(0.0 < self.mask_rate < 1.0, "pretraining.mask_rate must be in (0, 1)")
        _require(self.max_predictions_per_seq >= 1, "pretraining.max_predictions_per_seq must be at least 1")


@dataclasses.dataclass(frozen=True)
class DecodingConfig:
    """Translation: how the served model decodes, the Evaluator included (the export bakes these settings in;
    its `translate` signature takes them per request instead)."""
    beam_width: int = 4  # 1: greedy
    length_penalty: float = 1.0  # a finished hypothesis scores log P / length ** length_penalty (0: raw log P)
    max_new_tokens: int = 0  # pieces generated at most, the end marker included; 0: tokenizer.max_target_length

    def __post_init__(self):
        _require(1 <= self.beam_width <= 64, "decoding.beam_width must be in [1, 64]")
        _require(0.0 <= self.length_penalty <= 5.0, "decoding.length_penalty must be in [0, 5]")
        _require(self.max_new_tokens >= 0, "decoding.max_new_tokens must be >= 0 (0: tokenizer.max_target_length)")


@dataclasses.dataclass(frozen=True)
class BaseModelConfig:
    """Where a model starts: from scratch, the latest blessed model of another pipeline run on the same workdir (ML
    Metadata), or a keras-hub BERT preset. Transform then tokenizes with its vocabulary. Which sources and which kind
    of base each task kind takes is its own (components/tasks/<kind>/task.py, components/nn/presets.py)."""
    source: str = "none"  # none | pipeline | preset
    pipeline_name: str = ""  # source=pipeline: the base pipeline's pipeline_name (a masked_lm, or a causal_lm's)
    preset: str = ""  # source=preset: a preset directory (backbone.save_to_preset) or a keras-hub handle

    def __post_init__(self):
        _require(self.source in BASE_MODEL_SOURCES, f"base_model.source must be one of {BASE_MODEL_SOURCES}")
        _require(self.source != "pipeline" or self.pipeline_name,
                 "base_model.source=pipeline needs base_model.pipeline_name (the base model's pipeline)")
        _require(self.source != "preset" or self.preset,
                 "base_model.source=preset needs base_model.preset (a preset directory or keras-hub handle)")


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """The embedded endpoint (TF Serving's REST and gRPC APIs); batching as TF Serving's batching_parameters."""
    model_name: str = "text_classifier"
    host: str = "127.0.0.1"
    port: int = 8501  # REST
    grpc_port: int = 8500  # 0: no gRPC
    batching: bool = False
    max_batch_size: int = 32
    batch_timeout_micros: int = 1000
    max_rows_per_request: int = 1024  # more rows (instances, examples) in one request are refused
    max_connections: int = 64  # REST connections open at once, and gRPC calls in progress at once
    request_timeout_seconds: float = 30.0  # a request's deadline (TF Serving's --rest_api_timeout_in_ms)
    drain_seconds: float = 10.0  # on SIGTERM / Ctrl-C, how long requests in flight get to finish

    def __post_init__(self):
        _require(self.model_name.replace("_", "").replace("-", "").isalnum(),
                 "serving.model_name may hold letters, digits, '_' and '-' only")
        _require(bool(self.host) and not any(c.isspace() or c in "/@" for c in self.host),
                 f"serving.host {self.host!r} must be a host name or IP address (no scheme, path or spaces), "
                 "e.g. 127.0.0.1, or 0.0.0.0 for every interface")
        _require(1 <= self.port <= 65535, f"serving.port must be within 1..65535, got {self.port}")
        _require(0 <= self.grpc_port <= 65535 and self.grpc_port != self.port,
                 f"serving.grpc_port must be within 1..65535 and differ from serving.port (0 turns gRPC off), got "
                 f"{self.grpc_port}")
        _require(self.max_batch_size > 0 and self.batch_timeout_micros >= 0,
                 "serving.max_batch_size must be positive and serving.batch_timeout_micros >= 0")
        _require(self.max_rows_per_request > 0 and self.max_connections > 0,
                 "serving.max_rows_per_request and serving.max_connections must be positive")
        _require(self.request_timeout_seconds > 0 and self.drain_seconds >= 0,
                 "serving.request_timeout_seconds must be positive and serving.drain_seconds >= 0")


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Scheduled retraining (`schedule` locally, the recurring run on Kubeflow)."""
    cron: str = "0 * * * *"  # minute hour day-of-month month day-of-week, in UTC; a run starts only for a new span
    warm_start: bool = False  # the Trainer gets the latest blessed model as base_model

    def __post_init__(self):
        _require(len(self.cron.split()) == 5 and croniter.is_valid(self.cron),
                 f"schedule.cron {self.cron!r} is not a cron expression of 5 fields "
                 "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *' for 03:00 UTC daily")


@dataclasses.dataclass(frozen=True)
class BeamConfig:
    """How Beam runs the data components (ExampleGen, StatisticsGen, Transform, Evaluator) on a local run."""
    mode: str = "auto"  # auto: in memory for small inputs, one worker process per core for large ones
    workers: int = 0  # multi_processing: worker processes (0: one per core)
    args: str = ""  # Beam pipeline options that replace the DirectRunner's, e.g. "--runner=FlinkRunner ..."

    def __post_init__(self):
        _require(self.mode in BEAM_MODES, f"beam.mode must be one of {BEAM_MODES}")
        _require(self.workers >= 0, "beam.workers must be >= 0 (0: one per core)")


@dataclasses.dataclass(frozen=True)
class Config:
    task: str = "classification"
    pipeline_name: str = "text-classifier"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = dataclasses.field(default_factory=TokenizerConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
    serving: ServingConfig = dataclasses.field(default_factory=ServingConfig)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    pretraining: PretrainingConfig = dataclasses.field(default_factory=PretrainingConfig)
    base_model: BaseModelConfig = dataclasses.field(default_factory=BaseModelConfig)
    decoding: DecodingConfig = dataclasses.field(default_factory=DecodingConfig)
    beam: BeamConfig = dataclasses.field(default_factory=BeamConfig)

    def __post_init__(self):
        _require(self.task in TASKS, f"task must be one of {TASKS}")
        if any(isinstance(getattr(self, f.name), Withheld) for f in dataclasses.fields(self)):
            return  # a component's partial view: the whole config was checked where it was loaded
        _require(self.base_model.source == "none" or not self.schedule.warm_start,
                 "schedule.warm_start and base_model both choose the Trainer's base model: set one")
        _require(not self.data.text_pair_column or self.tokenizer.max_seq_length >= 5,
                 "tokenizer.max_seq_length must be at least 5 for sentence pairs ([CLS] a [SEP] b [SEP])")
        _require(self.base_model.pipeline_name != self.pipeline_name,
                 "base_model.pipeline_name names this pipeline; to continue from its own last model use "
                 "schedule.warm_start")
        _require(not self.model.shared_embeddings or (self.tokenizer.shared_vocabulary
                                                      and self.base_model.source == "none"),
                 "model.shared_embeddings needs one vocabulary for both sides: tokenizer.shared_vocabulary=true and "
                 "no base model (a base model's vocabulary reads the source only)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def from_dict(values: Mapping[str, Any]) -> Config:
    """Builds a Config from nested dicts (YAML), naming any unknown key."""
    return _build(Config, values, prefix="")


def preset_path(task: str) -> str:
    """The YAML preset a task kind ships with."""
    return os.path.join(TASKS_DIR, task, "preset.yaml")


class Withheld:
    """A config section a component was not handed: its task kind does not declare reading it there."""

    def __init__(self, section: str, component: str):
        self._section, self._component = section, component

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"config section {self._section!r} is not handed to {self._component}: add it to the "
                             f"sections the task kind declares it reads (components/tasks/<kind>/__init__.py)")


def sections(config: Config, names: Iterable[str]) -> dict:
    """The `custom_config` of a component that reads `names`: those sections of the validated config, and the task."""
    everything = config.to_dict()
    return {name: everything[name] for name in ("task", *names)}


def from_sections(values: Mapping[str, Any], component: str) -> Config:
    """Rebuilds what `sections` handed to `component`; every other section is `Withheld`."""
    withheld = {f.name: Withheld(f.name, component) for f in dataclasses.fields(Config)
                if f.name not in values and f.type in _SECTIONS}
    return _build(Config, values, prefix="", given=withheld)


def load(preset: Optional[str] = None, overrides: Sequence[str] = ()) -> Config:
    """Defaults, then the YAML preset (a path, or a task kind's name for the preset it ships), then `section.key=value`
    overrides."""
    values: dict = {}
    if preset:
        values = _read_yaml(preset_path(preset) if preset in TASKS else preset)
    for item in overrides:
        _apply_override(values, item)
    return from_dict(values)


def _read_yaml(path: str) -> dict:
    if not os.path.isfile(path):
        raise UserError(f"config preset {path!r} does not exist", hint="pass --config=<path to a YAML preset>")
    try:
        with open(path, encoding="utf-8") as f:
            values = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"config preset {path!r} is not valid YAML: {e}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise UserError(f"config preset {path!r} must be a mapping of sections, got {type(values).__name__}")
    return values


def _apply_override(values: dict, item: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise UserError(f"override {item!r} is not of the form section.key=value")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    node = values
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"override {item!r}: {part!r} is not a section")
    node[parts[-1]] = value


def _build(cls, values: Any, prefix: str, given: Optional[Mapping[str, Any]] = None):
    if not isinstance(values, Mapping):
        raise UserError(f"config section {prefix.rstrip('.') or '<root>'!r} must be a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"unknown config key {prefix + unknown[0]!r}",
                        hint=f"known keys here: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in values.items():
        field_type = fields[name].type
        sub = _SECTIONS.get(field_type)
        kwargs[name] = _build(sub, value, f"{prefix}{name}.") if sub else _coerce(prefix + name, field_type, value)
    kwargs.update(given or {})
    try:
        return cls(**kwargs)
    except UserError:
        raise
    except (TypeError, ValueError) as e:
        raise UserError(f"invalid config in {prefix.rstrip('.') or '<root>'!r}: {e}") from None


def _coerce(key: str, type_name: str, value: Any) -> Any:
    base = type_name.replace("Optional[", "").rstrip("]")
    if value is None and type_name.startswith("Optional"):
        return None
    if base == "float" and isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
        try:
            value = float(value)
        except ValueError:
            pass
    expected = {"int": int, "float": (int, float), "bool": bool, "str": str}[base]
    if isinstance(value, bool) and base != "bool" or not isinstance(value, expected):
        raise UserError(f"config key {key!r} must be of type {base}, got {value!r}")
    return float(value) if base == "float" else value


def _is_mesh(text: str) -> bool:
    parts = text.split("x")
    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(f"invalid config: {message}")


_SECTIONS = {c.__name__: c for c in (DataConfig, TokenizerConfig, ModelConfig, TrainingConfig, EvaluationConfig,
                                      ServingConfig, ScheduleConfig, PretrainingConfig, BaseModelConfig,
                                      DecodingConfig, BeamConfig)}
