"""Sequence classification: CSV of (text, label) -> label name and class probabilities."""
from components import features, labels
from components.columns import strings
from components.evaluation import build_eval_config
from components.modeling import presets
from components.tasks import Task
from components.tokenization import vocabulary
from components.training.classification import train_classifier
from pipeline.config import Config
from serving.export import export_classifier


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids (int64 [max_seq_length]) and label_id (int64 [])."""
    texts = strings(inputs[config.data.text_column])
    outputs = vocabulary.encoder(texts, config).encode(texts)
    outputs[features.LABEL_ID] = labels.label_ids(strings(inputs[config.data.label_column]))
    return outputs


def _export(model, tft_output, config: Config, export_dir: str) -> None:
    export_classifier(model, tft_output, config.data.text_column, config.data.label_column, export_dir)


def _train(config, tft_output, train_files, eval_files, log_dir, base_model_dir=None):
    return train_classifier(config, tft_output, train_files, eval_files, log_dir,
                            presets.resolve(config.base_model, base_model_dir))


TASK = Task(preprocess=preprocess, train=_train, export=_export, eval_config=build_eval_config, input_format="csv")
