"""ExampleGen executor for parallel text (TSV/CSV with source and target columns): one tf.Example per pair.

Output features (bytes, one value each): `source` and `target` (features.SOURCE, features.TARGET), whatever the
columns are called in the files (data.source_column, data.target_column, from custom_config). How records become
pairs is `parallel_format`'s, the same code the up-front check runs. Beam matches the split's files and streams each
one (.gz ones decompressed, as the check reads them).
"""
import os
from typing import Any, Dict, Iterator

import apache_beam as beam
import tensorflow as tf
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.types import standard_component_specs

from components.core import features
from components.core.config import DataConfig
from components.text.readers import parallel_format, reader_config


def to_example(pair: parallel_format.Pair) -> tf.train.Example:
    def string(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))

    return tf.train.Example(features=tf.train.Features(feature={
        features.SOURCE: string(pair.source), features.TARGET: string(pair.target)}))


def _examples(file: fileio.ReadableFile, input_base: str, source_column: str, target_column: str
              ) -> Iterator[tf.train.Example]:
    path = file.metadata.path
    name = os.path.relpath(path, input_base)
    with file.open(compression_type=CompressionTypes.AUTO) as f:
        # The delimiter follows the file's own name (.csv or not), which a relative name keeps.
        for pair in parallel_format.read_pairs(iter(f.readline, b""), name, source_column, target_column):
            yield to_example(pair)


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _ParallelToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], split_pattern: str):  # noqa: N802
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    data, defaults = reader_config.unpack(exec_properties), DataConfig()
    source_column = data.get("source_column", defaults.source_column)
    target_column = data.get("target_column", defaults.target_column)
    return (pipeline
            | "MatchFiles" >> fileio.MatchFiles(os.path.join(input_base, split_pattern),
                                                empty_match_treatment=fileio.EmptyMatchTreatment.DISALLOW)
            | "ReadMatches" >> fileio.ReadMatches()
            | "ReadPairs" >> beam.FlatMap(_examples, input_base, source_column, target_column))


class Executor(BaseExampleGenExecutor):
    """FileBasedExampleGen's executor for the "parallel" input format; reads `data` from custom_config."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802  (TFX's name)
        return _ParallelToExample
