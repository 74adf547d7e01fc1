"""The base model TFX resolved, handed to task code where a keras-hub preset arrives: base_model.preset.

Transform and Trainer get the base model as an input artifact, not as config; putting the preset inside it into
their custom_config lets every part of a task (its preprocessing_fn, training and export) find the base with
`presets.resolve(config.base_model, None)`, as it finds a base_model.source=preset one.
"""
from typing import Optional

from components.core import config as config_lib
from components.nn import presets


def handed_over(custom_config: dict, model_dir: Optional[str], component: str) -> dict:
    """`custom_config` with base_model.preset resolved from `model_dir` (a base model's serving directory, or None
    when the resolver found none: presets.resolve says so for source=pipeline). Unchanged for a kind that reads no
    base_model section, or without a base (schedule.warm_start hands the Trainer its own last model, not a base)."""
    if "base_model" not in custom_config:
        return custom_config
    preset = presets.resolve(config_lib.from_sections(custom_config, component).base_model, model_dir)
    if preset is None:
        return custom_config
    return {**custom_config, "base_model": {**custom_config["base_model"], "preset": preset}}
