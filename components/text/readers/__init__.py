"""Input formats: which ExampleGen reads them, which files a directory input means, and the up-front check.

CSV uses TFX's CsvExampleGen; other formats register a BaseExampleGenExecutor subclass. Entries are dotted paths so
that choosing a format imports only its reader.
"""
import dataclasses
import importlib
from typing import Callable, Optional

from components.core import features

CSV = "csv"
TEXT = "text"  # plain-text corpora, one tf.Example per document (text_corpus.py)
CONLL = "conll"  # word/tag columns, one tf.Example per sentence (conll.py)
PARALLEL = "parallel"  # TSV/CSV with source and target columns, one tf.Example per pair (parallel.py)


@dataclasses.dataclass(frozen=True)
class InputFormat:
    executor: Optional[str]  # dotted path of a BaseExampleGenExecutor subclass; None: TFX's CsvExampleGen
    directory_pattern: str  # the files read when data.input_path is a directory
    check: str  # dotted path of check(path, data_config) -> summary with .rows, .label_counts, .describe()
    label_feature: Callable[..., Optional[str]]  # (data_config) -> the raw feature holding the labels, if any


FORMATS = {
    CSV: InputFormat(None, "*.csv", "components.text.input_checks.check_data_csv", lambda data: data.label_column),
    TEXT: InputFormat("components.text.readers.text_corpus.Executor", "*.txt*",
                      "components.text.readers.text_check.check_data_text", lambda data: None),
    CONLL: InputFormat("components.text.readers.conll.Executor", "*.conll",
                       "components.text.readers.conll_check.check_data_conll", lambda data: features.TAGS),
    PARALLEL: InputFormat("components.text.readers.parallel.Executor", "*.[tc]sv",
                          "components.text.readers.parallel_check.check_data_parallel", lambda data: data.target_column),
}


def load(dotted_path: str):
    module, _, name = dotted_path.rpartition(".")
    return getattr(importlib.import_module(module), name)
