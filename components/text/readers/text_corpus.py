"""ExampleGen executor for plain-text corpora (.txt, .txt.gz): one tf.Example per document.

Output features (all bytes):
  text       [1]  the document: its non-blank lines joined by "\\n"
  sentences  [n]  those lines in order (for next-sentence prediction)
  doc_id     [1]  "<file>" or "<file>:<first line>", the file relative to the input base

Files are listed when the pipeline is built (from the split pattern TFX resolved, spans included), then spread over
Beam workers; each worker streams its files, so no process holds the corpus. Which documents exist is decided by
`text_documents`, the same code the up-front check runs.
"""
import os
from typing import Any, Dict, Iterator

import apache_beam as beam
import tensorflow as tf
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs

from components.text.readers import reader_config, text_documents

TEXT, SENTENCES, DOC_ID = "text", "sentences", "doc_id"


class _ReadDocuments(beam.DoFn):
    def __init__(self, input_base: str, split: str, min_words: int):
        super().__init__()
        self._input_base, self._split, self._min_words = input_base, split, min_words

    def process(self, path: str) -> Iterator[tf.train.Example]:
        name = os.path.relpath(path, self._input_base)
        with text_documents.open_binary(path) as f:
            for doc in text_documents.read_documents(f, name, self._split, self._min_words):
                yield to_example(doc)


def to_example(doc: text_documents.Document) -> tf.train.Example:
    def strings(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode("utf-8") for v in values]))

    return tf.train.Example(features=tf.train.Features(feature={
        TEXT: strings([doc.text]), SENTENCES: strings(doc.sentences), DOC_ID: strings([doc.doc_id])}))


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _TextToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], split_pattern: str):  # noqa: N802
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    data = reader_config.unpack(exec_properties)
    pattern = os.path.join(input_base, split_pattern)
    files = sorted(fileio.glob(pattern))
    if not files:
        raise RuntimeError(f"Split pattern {pattern} does not match any files.")
    return (pipeline
            | "ListFiles" >> beam.Create(files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadDocuments" >> beam.ParDo(_ReadDocuments(
                input_base, data.get("document_split", text_documents.FILE), int(data.get("min_document_words", 1)))))


class Executor(BaseExampleGenExecutor):
    """FileBasedExampleGen's executor for the "text" input format; reads `data` from custom_config."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802  (TFX's name)
        return _TextToExample
