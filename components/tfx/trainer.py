"""TFX Trainer entry point (`run_fn` by dotted path): the only trainer code that knows `fn_args`."""
import tempfile

import tensorflow_text  # noqa: F401  (registers the tokenizer ops the Transform graph uses)
import tensorflow_transform as tft

from components import tasks
from components.core import config as config_lib
from components.core.warmup import write_warmup_requests
from components.tfx.base_model import handed_over
from components.training import loop
from components.training.dataset import list_files


def run_fn(fn_args) -> None:
    base_model_dir = getattr(fn_args, "base_model", None)
    config = config_lib.from_sections(handed_over(fn_args.custom_config, base_model_dir, "Trainer"), "Trainer")
    task = tasks.get(config.task)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    model = task.train(config, tft_output, list_files(fn_args.train_files), list_files(fn_args.eval_files),
                       fn_args.model_run_dir, base_model_dir)
    # Under multi-worker every worker runs this; only the chief's export is the Trainer's output.
    export_dir = fn_args.serving_model_dir if loop.is_chief(config) else tempfile.mkdtemp(prefix="worker-export-")
    task.export(model, tft_output, config, export_dir)
    write_warmup_requests(export_dir, task.request(config))  # traced before the first real request
