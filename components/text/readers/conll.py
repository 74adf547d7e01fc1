"""ExampleGen executor for CoNLL-style files: one tf.Example per sentence.

Output features (bytes lists of equal length): `tokens` (features.TOKENS), the words, and `tags` (features.TAGS),
their tags. Which columns hold them comes from the `data` config section (custom_config); how lines become sentences
is `conll_format`'s, the same code the up-front check runs. Beam matches the split's files and streams each one
(.gz ones decompressed, as the check reads them).
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
from components.text.readers import conll_format, reader_config


def to_example(sentence: conll_format.Sentence) -> tf.train.Example:
    def strings(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode("utf-8") for v in values]))

    return tf.train.Example(features=tf.train.Features(feature={
        features.TOKENS: strings(sentence.tokens), features.TAGS: strings(sentence.tags)}))


def _examples(file: fileio.ReadableFile, input_base: str, token_index: int, tag_index: int, scheme: str
              ) -> Iterator[tf.train.Example]:
    name = os.path.relpath(file.metadata.path, input_base)
    with file.open(compression_type=CompressionTypes.AUTO) as f:
        for sentence in conll_format.read_sentences(iter(f.readline, b""), name, token_index, tag_index, scheme):
            yield to_example(sentence)


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _ConllToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], split_pattern: str):  # noqa: N802
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    data, defaults = reader_config.unpack(exec_properties), DataConfig()
    # custom_config travels as a protobuf Struct, where every number is a float.
    token_index = int(data.get("token_column_index", defaults.token_column_index))
    tag_index = int(data.get("tag_column_index", defaults.tag_column_index))
    scheme = data.get("tag_scheme", defaults.tag_scheme)
    return (pipeline
            | "MatchFiles" >> fileio.MatchFiles(os.path.join(input_base, split_pattern),
                                                empty_match_treatment=fileio.EmptyMatchTreatment.DISALLOW)
            | "ReadMatches" >> fileio.ReadMatches()
            | "ReadSentences" >> beam.FlatMap(_examples, input_base, token_index, tag_index, scheme))


class Executor(BaseExampleGenExecutor):
    """FileBasedExampleGen's executor for the "conll" input format; reads `data` from custom_config."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802  (TFX's name)
        return _ConllToExample
