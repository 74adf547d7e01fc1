"""CoNLL-style files as sentences: the one parser that both the ExampleGen reader and the up-front check run.

One word a line; columns are separated by any run of whitespace (tabs or spaces), and data.token_column_index /
data.tag_column_index pick the word and its tag (negative indexes count from the end: -1 is the last column). A blank
line, or a line holding only whitespace (WNUT-17's train file separates some sentences with a single TAB), ends a
sentence. `-DOCSTART-` lines (CoNLL-2003's document markers) are skipped and end a sentence too. Tags are 'O' or
'<B|I|E|S>-TYPE' (BIO, IOB1 or BIOES), each sentence's normalized as `tag_schemes` says (the count of repaired
tags travels with it).

Because any whitespace separates columns, a word cannot hold a space. A tab-separated line whose fields hold spaces
("New York<TAB>B-LOC") or that has an empty field ("Paris<TAB><TAB>B-LOC") splits into different columns on tabs than
on whitespace: such a line is refused as ambiguous rather than guessed. Errors are UserErrors naming file:line.
"""
import dataclasses
from typing import BinaryIO, Iterator, List, Tuple

from components.core.errors import UserError
from components.text.readers import tag_schemes, text_documents

DOCSTART = "-DOCSTART-"
_PREFIXES = ("B", "I", "E", "S")


@dataclasses.dataclass(frozen=True)
class Sentence:
    line: int  # where it starts, for messages
    tokens: Tuple[str, ...]
    tags: Tuple[str, ...]  # normalized: a valid BIO or BIOES sequence
    repaired: int = 0  # how many of the file's tags normalizing changed


def read_sentences(f: BinaryIO, name: str, token_index: int, tag_index: int, scheme: str = "auto"
                   ) -> Iterator[Sentence]:
    """The sentences of one file in order, streaming; `name` is how messages call the file; `scheme` is
    data.tag_scheme."""
    tokens: List[str] = []
    tags: List[str] = []
    first = 0
    try:
        for line_no, line in enumerate(text_documents.decode_lines(f, name), start=1):
            fields = line.lstrip("\ufeff").split() if line_no == 1 else line.split()
            if fields and fields[0] != DOCSTART:
                token, tag = _columns(line, fields, f"{name}:{line_no}", token_index, tag_index)
                first = first or line_no
                tokens.append(token)
                tags.append(tag)
            elif tokens:
                yield _sentence(first, tokens, tags, scheme)
                tokens, tags, first = [], [], 0
    except text_documents.NotText as e:
        raise UserError(str(e), hint="CoNLL files must be UTF-8 text") from None
    if tokens:
        yield _sentence(first, tokens, tags, scheme)


def _sentence(first: int, tokens: List[str], tags: List[str], scheme: str) -> Sentence:
    normalized, repaired = tag_schemes.normalize(tags, scheme)
    return Sentence(first, tuple(tokens), normalized, repaired)


def _columns(line: str, fields: List[str], where: str, token_index: int, tag_index: int) -> Tuple[str, str]:
    if "\t" in line and [field.strip() for field in line.strip().split("\t")] != fields:
        raise UserError(f"{where}: the columns differ when split on tabs or on whitespace: {line!r}",
                        hint="a word may not hold spaces, and no column may be empty; "
                             "separate the columns consistently with tabs or spaces")
    count = len(fields)
    if count < 2 or not (-count <= token_index < count and -count <= tag_index < count) \
            or token_index % count == tag_index % count:
        raise UserError(f"{where}: {count} column(s) {fields}, so there is no word in column "
                        f"{token_index} and tag in column {tag_index}",
                        hint="every non-blank line needs a word and its tag; choose the columns with "
                             "--set data.token_column_index=<i> --set data.tag_column_index=<j>")
    tag = fields[tag_index]
    prefix, dash, entity_type = tag.partition("-")
    if tag != "O" and not (prefix in _PREFIXES and dash and entity_type):
        raise UserError(f"{where}: tag {tag!r} (column {tag_index}) is neither 'O' nor '<B|I|E|S>-TYPE'",
                        hint="check data.tag_column_index; tags must be in the BIO or BIOES scheme")
    return fields[token_index], tag
