"""Parallel text (TSV or CSV with a header) as (source, target) pairs: the one parser that both the ExampleGen reader
and the up-front check run.

A file ending in .csv (or .csv.gz) is comma-separated, any other (.tsv, .tsv.gz) tab-separated; both are read with
the csv module's quoting rules, strictly (a field that starts with a double quote ends at its closing quote; "" inside
it is one quote), so a field may hold the other delimiter or a line break when quoted. The first record names the
columns; data.source_column and data.target_column pick the two sides, any other column is ignored. Blank lines are
skipped. Every other row needs both sides non-empty: a row with a missing side, a row with the wrong number of
fields, bytes that are not UTF-8, or broken quoting stop the run with a UserError naming file:line.
"""
import csv
import dataclasses
from typing import BinaryIO, Iterator, List

from components.core.errors import UserError
from components.text.readers import text_documents

_HINT = "name the columns with --set data.source_column=<name> --set data.target_column=<name>"


@dataclasses.dataclass(frozen=True)
class Pair:
    line: int  # where its record starts, for messages
    source: str
    target: str


def delimiter(name: str) -> str:
    return "," if name.lower().removesuffix(".gz").endswith(".csv") else "\t"


def read_pairs(f: BinaryIO, name: str, source_column: str, target_column: str) -> Iterator[Pair]:
    """The pairs of one file in order, streaming; `name` is how messages call the file."""
    kind = "CSV" if delimiter(name) == "," else "TSV"
    lines = _lines(f, name)
    reader = csv.reader(lines, delimiter=delimiter(name), strict=True)
    records = _records(reader, name, kind)
    header = next(records, None)
    if header is None:
        return
    _, columns = header
    columns = [column.strip() for column in columns]
    missing = [c for c in (source_column, target_column) if c not in columns]
    if missing:
        raise UserError(f"{name}:1: columns found {columns}, expected {source_column!r} (source) and "
                        f"{target_column!r} (target); missing {missing}. The first line must name the columns",
                        hint=_HINT + (f" (a {kind} file is split on {'commas' if kind == 'CSV' else 'tabs'})"
                                      if len(columns) == 1 else ""))
    source_i, target_i = columns.index(source_column), columns.index(target_column)
    for line_no, fields in records:
        where = f"{name}:{line_no}"
        if len(fields) != len(columns):
            raise UserError(f"{where}: {len(fields)} field(s), but the header has {len(columns)} columns",
                            hint=f"put a field that holds a {'comma' if kind == 'CSV' else 'tab'} in double quotes")
        source, target = fields[source_i].strip(), fields[target_i].strip()
        for side, column in ((source, source_column), (target, target_column)):
            if not side:
                raise UserError(f"{where}: the {column!r} side of this pair is empty",
                                hint="every row needs a source and its translation; delete or fill the row")
        yield Pair(line_no, source, target)


def _lines(f: BinaryIO, name: str) -> Iterator[str]:
    try:
        for line_no, line in enumerate(text_documents.decode_lines(f, name), start=1):
            yield (line.lstrip("\ufeff") if line_no == 1 else line) + "\n"
    except text_documents.NotText as e:
        raise UserError(str(e), hint="parallel text must be UTF-8 (re-save the file with UTF-8 encoding)") from None


def _records(reader, name: str, kind: str) -> Iterator[tuple]:
    """(first line number, fields) of each non-blank record."""
    previous = 0
    while True:
        try:
            fields: List[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise UserError(f"{name}:{previous + 1}: not valid {kind} ({e})",
                            hint='a field that starts with a double quote must end with one; write a quote inside '
                                 'a quoted field as ""') from None
        start, previous = previous + 1, reader.line_num
        if fields and any(field.strip() for field in fields):
            yield start, fields

