"""TFX Trainer entry point (`run_fn` by dotted path): the only trainer code that knows `fn_args`."""
import tensorflow_text  # noqa: F401  (registers the tokenizer ops the Transform graph uses)
import tensorflow_transform as tft

from components import tasks
from components.training.dataset import list_files
from pipeline.config import from_dict


def run_fn(fn_args) -> None:
    config = from_dict(fn_args.custom_config)
    task = tasks.get(config.task)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    model = task.train(config, tft_output, list_files(fn_args.train_files), list_files(fn_args.eval_files),
                       fn_args.model_run_dir, getattr(fn_args, "base_model", None))
    task.export(model, tft_output, config, fn_args.serving_model_dir)
