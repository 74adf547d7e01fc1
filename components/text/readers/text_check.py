"""Checks a text corpus before the pipeline runs: one clear UserError instead of a Beam stack trace.

Runs the reader's own document splitting (`text_documents`) over every file, streaming, so what passes here reads
the same in ExampleGen.
"""
import dataclasses
import glob
import os
from typing import Dict, List, Tuple

from components.core.errors import UserError
from components.text import readers
from components.text.readers import text_documents

_INPUT_HINT = "pass --set data.input_path=<a .txt/.txt.gz file, a directory of them, or a glob>"


@dataclasses.dataclass(frozen=True)
class TextSummary:
    files: Tuple[str, ...]
    rows: int  # documents long enough to be kept
    words: int  # in those documents
    split: str
    label_counts: Dict[str, int] = dataclasses.field(default_factory=dict)  # a corpus has no labels

    def describe(self) -> str:
        files = "1 file" if len(self.files) == 1 else f"{len(self.files)} files"
        unit = "file" if self.split == text_documents.FILE else "blank-line-separated block"
        return f"{self.rows:,} documents ({self.words:,} words) in {files}; a document is a {unit}"


def check_text(path: str, split: str, min_words: int) -> TextSummary:
    files = corpus_files(path)
    rows = words = longest = 0
    for name in files:
        with text_documents.open_binary(name) as f:
            try:
                for doc in text_documents.read_documents(f, name, split, min_words=1):
                    longest = max(longest, doc.num_words)
                    if doc.num_words >= min_words:
                        rows, words = rows + 1, words + doc.num_words
            except text_documents.NotText as e:
                raise UserError(str(e), hint="a text corpus holds UTF-8 .txt or .txt.gz files only") from None
    if longest == 0:
        raise UserError(f"the corpus {path} is empty: {len(files)} file(s) without any text",
                        hint=_INPUT_HINT)
    if rows == 0:
        raise UserError(f"no document in {path} has at least {min_words} words (the longest has {longest})",
                        hint="lower data.min_document_words, or check data.document_split "
                             f"(now {split!r}: {'blank lines' if split == text_documents.BLANK_LINE else 'files'} "
                             "separate documents)")
    return TextSummary(tuple(files), rows, words, split)


def corpus_files(path: str) -> List[str]:
    """The files a data path means: the file, the directory's .txt/.txt.gz files, or a glob's matches.

    TFX's {SPAN} and {VERSION} placeholders match any span here; ExampleGen itself reads only the latest.
    """
    if os.path.isdir(path):
        pattern = readers.FORMATS[readers.TEXT].directory_pattern  # .txt and .txt.gz (one glob cannot say "either")
        files = sorted(glob.glob(os.path.join(glob.escape(path), pattern)))
        if not files:
            raise UserError(f"directory {path} holds no .txt or .txt.gz files", hint=_INPUT_HINT)
        return files
    pattern = path.replace("{SPAN}", "*").replace("{VERSION}", "*")
    files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise UserError(f"input {path} does not exist" if pattern == path else f"no file matches {path}",
                        hint=_INPUT_HINT)
    return files


def check_data_text(path: str, data) -> TextSummary:
    """The check with the settings a DataConfig names (the signature every input format's check shares)."""
    return check_text(path, data.document_split, data.min_document_words)
