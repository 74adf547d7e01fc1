"""TFX Trainer entry point (`run_fn` by dotted path): the only trainer code that knows `fn_args`."""
import tempfile

import tensorflow_text  # noqa: F401  (registers the tokenizer ops the Transform graph uses)
import tensorflow_transform as tft

from components import tasks
from components.training import loop
from components.training.dataset import list_files
from pipeline.config import from_dict
from serving.export import write_warmup_requests
from serving.task_inputs import TASK_INPUTS


def run_fn(fn_args) -> None:
    config = from_dict(fn_args.custom_config)
    task = tasks.get(config.task)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    model = task.train(config, tft_output, list_files(fn_args.train_files), list_files(fn_args.eval_files),
                       fn_args.model_run_dir, getattr(fn_args, "base_model", None))
    # Under multi-worker every worker runs this; only the chief's export is the Trainer's output.
    export_dir = fn_args.serving_model_dir if loop.is_chief(config) else tempfile.mkdtemp(prefix="worker-export-")
    task.export(model, tft_output, config, export_dir)
    write_warmup_requests(export_dir, TASK_INPUTS[config.task])  # traced before the first real request
