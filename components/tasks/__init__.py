"""Task kinds are data: each contributes its Transform step, training, export, evaluation and input format.

The pipeline, the runner, the Trainer/Transform adapters and the server are shared; adding a task adds one module
here and one entry in TASKS.
"""
import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class Task:
    preprocess: Callable  # (inputs, config) -> transformed features; runs inside Transform's preprocessing_fn
    train: Callable  # (config, tft_output, train_files, eval_files, log_dir, base_model_dir) -> keras.Model
    export: Callable  # (model, tft_output, config, export_dir) -> None; writes the serving SavedModel
    eval_config: Callable  # (config, num_labels) -> tfma.EvalConfig; the Evaluator's metrics and push gate
    input_format: str  # which ExampleGen reads the data: "csv", ...


def get(name: str) -> Task:
    """Imports only the chosen task's module, so Transform does not load every task's dependencies."""
    import importlib

    return importlib.import_module(f"components.tasks.{name}").TASK
