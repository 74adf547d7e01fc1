"""Plain-text corpora as documents: the one parser that both the ExampleGen reader and the up-front check use.

A document is a whole file (`file`) or a block of lines between blank lines (`blank_line`). Each document keeps its
non-blank lines in order as its sentences (next-sentence prediction needs the order), and its text is those lines
joined by "\\n". Files are streamed line by line, `.gz` ones decompressed on the fly, so memory grows with the
largest document, not the file. Anything that is not UTF-8 text (NUL bytes, invalid UTF-8) raises `NotText` naming
the file and line.
"""
import dataclasses
import gzip
from typing import BinaryIO, Iterable, Iterator, List, Tuple

import tensorflow as tf

from components.core.config import DOCUMENT_SPLITS

FILE, BLANK_LINE = DOCUMENT_SPLITS


class NotText(ValueError):
    """A file that is not UTF-8 text; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class Document:
    doc_id: str  # "<file>" or "<file>:<first line>": unique within a corpus, and says where to look
    sentences: Tuple[str, ...]  # the document's non-blank lines, stripped, in order

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)

    @property
    def num_words(self) -> int:
        return sum(len(sentence.split()) for sentence in self.sentences)


def open_binary(path: str) -> BinaryIO:
    """The file's bytes, decompressed when it ends in .gz (tf.io.gfile reads local and remote paths alike)."""
    f = tf.io.gfile.GFile(path, "rb")
    return gzip.GzipFile(fileobj=f, mode="rb") if path.endswith(".gz") else f


def read_documents(f: BinaryIO, name: str, split: str, min_words: int) -> Iterator[Document]:
    """The documents of one file with at least `min_words` whitespace-separated words, in file order."""
    return (doc for doc in split_documents(decode_lines(f, name), name, split) if doc.num_words >= min_words)


def decode_lines(raw_lines: Iterable[bytes], name: str) -> Iterator[str]:
    """Decoded lines without their line ending; raises NotText on NUL bytes or invalid UTF-8."""
    line_no = 0
    try:
        for line_no, raw in enumerate(raw_lines, start=1):
            if b"\0" in raw:
                raise NotText(f"{name}:{line_no}: holds NUL bytes, so it is not a text file")
            try:
                yield raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise NotText(f"{name}:{line_no}: not valid UTF-8 text (byte {raw[e.start:e.start + 1]!r} at "
                              f"column {e.start + 1})") from None
    except (OSError, EOFError) as e:  # e.g. a .gz that is not gzip, or is cut short
        raise NotText(f"{name}:{line_no + 1}: cannot be read as {'gzipped ' * name.endswith('.gz')}text ({e})") \
            from None


def split_documents(lines: Iterable[str], name: str, split: str) -> Iterator[Document]:
    """Groups decoded lines into documents; blank lines only separate, they never make a document."""
    if split not in DOCUMENT_SPLITS:
        raise ValueError(f"document split must be one of {DOCUMENT_SPLITS}, got {split!r}")
    sentences: List[str] = []
    first = 0
    for line_no, line in enumerate(lines, start=1):
        line = line.strip()
        if line:
            first = first or line_no
            sentences.append(line)
        elif split == BLANK_LINE and sentences:
            yield Document(f"{name}:{first}", tuple(sentences))
            sentences, first = [], 0
    if sentences:
        yield Document(name if split == FILE else f"{name}:{first}", tuple(sentences))
