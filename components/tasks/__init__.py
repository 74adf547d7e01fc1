"""Task kinds are data: each folder here is one kind, and contributes its Transform step, training, export,
evaluation, served request and preset. The pipeline, the runners, the TFX adapters and the server are shared.

Adding a kind is adding a folder `components/tasks/<kind>/` whose `task.py` defines `TASK` and whose `request.py`
defines `request(config)` (README, "Adding a task kind"); the registry finds it (`components.core.config.TASKS` lists
the folders). Kinds never import each other.
"""
import dataclasses
import importlib
from typing import Callable, Tuple

from components.core.config import TASKS, Config
from components.core.warmup import TaskInput
from components.nn.metrics.headline import Headline


@dataclasses.dataclass(frozen=True)
class Task:
    preprocess: Callable  # (inputs, config) -> transformed features; runs inside Transform's preprocessing_fn
    train: Callable  # (config, tft_output, train_files, eval_files, log_dir, base_model_dir) -> keras.Model
    export: Callable  # (model, tft_output, config, export_dir) -> None; writes the serving SavedModel
    eval_config: Callable  # (config, num_labels) -> tfma.EvalConfig; the Evaluator's metrics and push gate
    input_format: str  # which ExampleGen reads the data (components/text/readers FORMATS)
    request: Callable  # (config) -> TaskInput: what serving_default takes; `serve` prints it, the export records it
    headline: Headline  # the metric the Evaluator gates on; training keeps the epoch best at it
    base_model_sources: Tuple[str, ...]  # the base_model.source values besides "none" it can start from
    request_text: Callable  # (raw example {feature: values}, config) -> what a client sends for it (run report)
    transform_reads: Tuple[str, ...]  # the config sections `preprocess` reads: Transform is handed only these
    trainer_reads: Tuple[str, ...]  # the config sections `train` and `export` read: the Trainer is handed only these


def get(name: str) -> Task:
    """Imports only the chosen kind's code, so Transform does not load every kind's dependencies."""
    return _module(name, "task").TASK


def request(config: Config) -> TaskInput:
    """What a model of `config.task` trained with `config` serves (e.g. one text or a sentence pair), without
    importing the kind's training code (for `serve` and `predict`)."""
    return _module(config.task, "request").request(config)


def _module(name: str, part: str):
    if name not in TASKS:
        raise ValueError(f"unknown task kind {name!r}; the kinds are {TASKS}")
    return importlib.import_module(f"{__name__}.{name}.{part}")
