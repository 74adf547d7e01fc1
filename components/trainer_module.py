"""TFX Trainer entry point (`run_fn` by dotted path): the only trainer code that knows `fn_args`."""
import tensorflow_text  # noqa: F401  (registers the tokenizer ops the Transform graph uses)
import tensorflow_transform as tft

from components.training.classification import train_classifier
from components.training.dataset import list_files
from pipeline.config import from_dict
from serving.export import export_classifier


def run_fn(fn_args) -> None:
    config = from_dict(fn_args.custom_config)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    model = train_classifier(config, tft_output, list_files(fn_args.train_files), list_files(fn_args.eval_files),
                             fn_args.model_run_dir)
    export_classifier(model, tft_output, config.data.text_column, config.data.label_column,
                      fn_args.serving_model_dir)
