"""One validated, frozen config for the whole pipeline.

Layers: dataclass defaults -> a YAML preset -> `key=value` overrides from the CLI. The result is frozen and reaches
Transform and Trainer as `custom_config` (a plain dict), so ML Metadata records exactly what was run.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional, Sequence

import yaml

from pipeline.errors import UserError

TASKS = ("classification",)
STRATEGIES = ("none", "mirrored")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
POOLINGS = ("cls", "mean")

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
    text_column: str = "text"
    label_column: str = "label"
    eval_percent: int = 20  # hash-bucketed share of rows held out for evaluation

    def __post_init__(self):
        _require(0 < self.eval_percent < 100, "data.eval_percent must be between 1 and 99")
        _require(self.text_column != self.label_column, "data.text_column and data.label_column must differ")


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    """WordPiece learned from the training split, applied in the Transform graph."""
    vocab_size: int = 8000
    lowercase: bool = True
    max_seq_length: int = 64
    min_word_count: int = 2  # words rarer than this do not shape the vocabulary

    def __post_init__(self):
        _require(self.vocab_size >= 16, "tokenizer.vocab_size must be at least 16")
        _require(self.max_seq_length >= 3, "tokenizer.max_seq_length must be at least 3 ([CLS] x [SEP])")
        _require(self.min_word_count >= 1, "tokenizer.min_word_count must be at least 1")


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

    def __post_init__(self):
        _require(self.preset in MODEL_PRESETS, f"model.preset must be one of {sorted(MODEL_PRESETS)}")
        _require(0.0 <= self.dropout < 1.0, "model.dropout must be in [0, 1)")
        _require(self.pooling in POOLINGS, f"model.pooling must be one of {POOLINGS}")
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

    def __post_init__(self):
        _require(self.batch_size > 0 and self.epochs > 0, "training.batch_size and training.epochs must be positive")
        _require(self.learning_rate > 0, "training.learning_rate must be positive")
        _require(0.0 <= self.warmup_fraction < 1.0, "training.warmup_fraction must be in [0, 1)")
        _require(self.strategy in STRATEGIES, f"training.strategy must be one of {STRATEGIES}")
        _require(self.mixed_precision in PRECISIONS, f"training.mixed_precision must be one of {PRECISIONS}")


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """The gate a model must pass to be pushed."""
    min_accuracy: float = 0.5  # value threshold
    max_accuracy_drop: float = 0.02  # change threshold against the blessed baseline

    def __post_init__(self):
        _require(0.0 <= self.min_accuracy <= 1.0, "evaluation.min_accuracy must be in [0, 1]")
        _require(self.max_accuracy_drop >= 0.0, "evaluation.max_accuracy_drop must be >= 0")


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    model_name: str = "text_classifier"
    host: str = "127.0.0.1"
    port: int = 8501

    def __post_init__(self):
        _require(self.model_name.replace("_", "").replace("-", "").isalnum(),
                 "serving.model_name may hold letters, digits, '_' and '-' only")


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

    def __post_init__(self):
        _require(self.task in TASKS, f"task must be one of {TASKS}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def from_dict(values: Mapping[str, Any]) -> Config:
    """Builds a Config from nested dicts (YAML or `custom_config`), naming any unknown key."""
    return _build(Config, values, prefix="")


def load(preset_path: Optional[str] = None, overrides: Sequence[str] = ()) -> Config:
    """Defaults, then the YAML preset, then `section.key=value` overrides."""
    values: dict = {}
    if preset_path:
        values = _read_yaml(preset_path)
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


def _build(cls, values: Any, prefix: str):
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


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(f"invalid config: {message}")


_SECTIONS = {c.__name__: c for c in (DataConfig, TokenizerConfig, ModelConfig, TrainingConfig, EvaluationConfig,
                                      ServingConfig)}
