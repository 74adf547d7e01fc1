"""Transform through real Beam for the task tests, each component handed only the config sections its kind declares
(as TFX hands them): analyze and transform rows, then write the transform graph with the raw metadata an export
reads."""
import os

import numpy as np
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import metadata_io

from components import tasks
from components.core import config as config_lib
from components.core import features
from components.tfx import transform as transform_module


def analyze_and_transform(rows, feature_spec, config: config_lib.Config, root: str):
    """-> (transformed rows, TFTransformOutput) of `rows` (dicts of raw features) under `root`."""
    custom_config = config_lib.sections(config, tasks.get(config.task).transform_reads)
    metadata = tft.DatasetMetadata.from_feature_spec(feature_spec)
    with tft_beam.Context(temp_dir=os.path.join(root, "tmp")):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform_module.preprocessing_fn(inputs, custom_config))
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(root, "transform"))
    metadata_io.write_metadata(metadata, os.path.join(root, "transform", tft.TFTransformOutput.RAW_METADATA_DIR))
    return transformed, tft.TFTransformOutput(os.path.join(root, "transform"))


def trainer_view(config: config_lib.Config) -> config_lib.Config:
    """The config as the Trainer (training and export) sees it: only the sections its kind declares."""
    return config_lib.from_sections(config_lib.sections(config, tasks.get(config.task).trainer_reads), "Trainer")


def batch(rows, names=features.MODEL_INPUTS) -> dict:
    """Transformed rows -> the model's int32 input batch."""
    return {name: np.stack([row[name] for row in rows]).astype("int32") for name in names}
