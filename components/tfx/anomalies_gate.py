"""Stops the pipeline when ExampleValidator finds anomalies, with a report a person can read.

TFX's ExampleValidator only records anomalies; without this gate Transform and Trainer would run on bad data.
"""
import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx

from components.core.errors import UserError


class DataAnomaliesError(UserError):
    """Raised inside the pipeline; the CLI finds it in the exception chain and prints it without a traceback."""


@tfx.dsl.components.component
def AnomaliesGate(anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies]):
    report = anomalies_report(anomalies.uri)
    if report:
        raise DataAnomaliesError(
            "the data does not match the schema:\n" + "\n".join(report),
            hint="fix the rows named above, or update the schema (data.schema_path) if the change is intended")


def anomalies_report(uri: str) -> list:
    """One line per anomalous feature and split, from ExampleValidator's SchemaDiff.pb files."""
    lines = []
    for split_dir in sorted(tf.io.gfile.listdir(uri)):
        path = os.path.join(uri, split_dir.rstrip("/"), "SchemaDiff.pb")
        if not tf.io.gfile.exists(path):
            continue
        found = anomalies_pb2.Anomalies()
        found.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
        split = split_dir.rstrip("/").removeprefix("Split-")
        for feature, info in sorted(found.anomaly_info.items()):
            lines.append(f"  split {split!r}, column {feature!r}: {info.description or info.short_description}")
        if found.HasField("dataset_anomaly_info"):
            lines.append(f"  split {split!r}: {found.dataset_anomaly_info.description}")
    return lines
