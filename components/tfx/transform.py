"""TFX Transform entry point (`preprocessing_fn` by dotted path): the only Transform code that knows custom_config.

Outputs depend on the task kind (components/tasks/<kind>/preprocess.py); the vocabularies are Transform assets, found
with `tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB / features.LABEL_VOCAB)`. At serving time labels
are absent: TransformFeaturesLayer prunes the label outputs and computes the rest from the text alone.
"""
from components import tasks
from components.core import config as config_lib


def preprocessing_fn(inputs, custom_config):
    config = config_lib.from_sections(custom_config, "Transform")
    return tasks.get(config.task).preprocess(inputs, config)
