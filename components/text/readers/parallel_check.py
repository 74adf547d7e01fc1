"""Checks parallel text before the pipeline runs: one clear UserError naming file:line instead of a Beam stack trace.

Runs the reader's own parser (`parallel_format`) over every file, streaming, so what passes here reads the same in
ExampleGen; it also refuses files without a pair and inputs too small to split.
"""
import dataclasses
from typing import Dict, Tuple

from components.core.errors import UserError
from components.text import readers
from components.text.input_checks import MIN_ROWS, input_files
from components.text.readers import parallel_format, text_documents

_INPUT_HINT = "pass --set data.input_path=<a .tsv/.csv file with source and target columns, or a directory of them>"


@dataclasses.dataclass(frozen=True)
class ParallelSummary:
    files: Tuple[str, ...]
    rows: int  # pairs
    source_words: int  # whitespace-separated, for scale only (Chinese has no spaces)
    target_words: int
    longest_source: int
    longest_target: int
    label_counts: Dict[str, int] = dataclasses.field(default_factory=dict)  # translation has no labels

    def describe(self) -> str:
        files = "1 file" if len(self.files) == 1 else f"{len(self.files)} files"
        return (f"{self.rows:,} pairs in {files}; source {self.source_words / self.rows:.1f} words a pair (the "
                f"longest {self.longest_source:,} characters), target {self.target_words / self.rows:.1f} "
                f"(the longest {self.longest_target:,} characters)")


def check_parallel(path: str, source_column: str, target_column: str, min_rows: int = MIN_ROWS) -> ParallelSummary:
    files = input_files(path, readers.FORMATS[readers.PARALLEL].directory_pattern, _INPUT_HINT)
    rows = source_words = target_words = longest_source = longest_target = 0
    for name in files:
        pairs = 0
        with text_documents.open_binary(name) as f:
            for pair in parallel_format.read_pairs(f, name, source_column, target_column):
                pairs += 1
                source_words += len(pair.source.split())
                target_words += len(pair.target.split())
                longest_source = max(longest_source, len(pair.source))
                longest_target = max(longest_target, len(pair.target))
        if not pairs:
            raise UserError(f"{name} holds no pairs (it is empty, or only a header)",
                            hint="remove the file from the input, or fill it")
        rows += pairs
    if rows < min_rows:
        raise UserError(f"{path} has {rows} pairs; at least {min_rows} are needed to split into train and eval",
                        hint="add more pairs")
    return ParallelSummary(tuple(files), rows, source_words, target_words, longest_source, longest_target)


def check_data_parallel(path: str, data) -> ParallelSummary:
    """The check with the columns a DataConfig names (the signature every input format's check shares)."""
    return check_parallel(path, data.source_column, data.target_column)
