"""Checks the input CSV before the pipeline runs, so bad data gets one clear UserError instead of a Beam stack trace.

Files are read the way TFX's CsvExampleGen reads them, so what passes here parses there: the header is the first line
split on commas (no quoting), records are `\\n`-separated UTF-8 lines joined while their count of `"` is odd (quoted
fields may span lines), each record is parsed by the csv module, and blank lines are skipped. Reading streams, so memory
does not grow with the file.
"""
from __future__ import annotations

import codecs
import collections
import csv
import dataclasses
import glob
import os
from typing import BinaryIO, Dict, Iterator, List, Tuple

from components.core.errors import UserError

MIN_ROWS = 10  # fewer cannot be split into train and eval
_SHOWN = 5  # offending rows named per kind of problem
_INPUT_HINT = "pass --set data.input_path=<a CSV file or a directory of CSV files>"


@dataclasses.dataclass(frozen=True)
class CsvSummary:
    files: Tuple[str, ...]
    rows: int
    label_counts: Dict[str, int]  # label as written -> rows

    def describe(self, max_labels: int = 10) -> str:
        """One line for the console before the run."""
        top = sorted(self.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        labels = ", ".join(f"{label} {n:,} ({n / self.rows:.0%})" for label, n in top[:max_labels])
        more = f", ... {len(top) - max_labels} more" if len(top) > max_labels else ""
        files = "1 file" if len(self.files) == 1 else f"{len(self.files)} files"
        return f"{self.rows:,} rows in {files}; {len(top)} labels: {labels}{more}"


def check_csv(path: str, text_column: str, label_column: str, min_rows: int = MIN_ROWS,
              pair_column: str = "") -> CsvSummary:
    """Validates a CSV file, or the *.csv files of a directory, and counts rows per label. `pair_column`: the
    column of each sentence pair's second text, which must then be present and non-empty too."""
    files = _csv_files(path)
    header, first_file = None, files[0]
    problems = _Problems()
    labels: collections.Counter = collections.Counter()
    required = {"text": text_column, "label": label_column, **({"text pair": pair_column} if pair_column else {})}
    for name in files:
        with open(name, "rb") as f:
            file_header = _read_header(name, f, required)
            if header is None:
                header = file_header
            elif file_header != header:
                raise UserError(f"{name} has columns {file_header} but {first_file} has {header}",
                                hint="all CSV files of one input must share the same header line")
            indexes = {role: header.index(column) for role, column in required.items()}
            for line_no, fields in _records(name, f):
                where = f"{name}:{line_no}"
                if len(fields) != len(header):
                    problems.add(f"wrong number of fields (the header has {len(header)})",
                                 f"{where} (got {len(fields)})")
                    continue
                empty = [role for role, i in indexes.items() if not fields[i].strip()]
                for role in empty:
                    problems.add(f"empty {role} in column {required[role]!r}", where)
                if not empty:
                    labels[fields[indexes["label"]]] += 1
    problems.raise_if_any()
    rows = sum(labels.values())
    if rows < min_rows:
        raise UserError(f"{path} has {rows} labelled rows; at least {min_rows} are needed to split into train and eval",
                        hint="add more labelled rows")
    if len(labels) < 2:
        raise UserError(f"column {label_column!r} of {path} holds a single label {dict(labels)}; "
                        "a classifier needs at least 2 distinct labels",
                        hint="check that the labels are in that column, or pass --set data.label_column=<name>")
    return CsvSummary(tuple(files), rows, dict(sorted(labels.items())))


def _csv_files(path: str) -> List[str]:
    return input_files(path, "*.csv", _INPUT_HINT)


def input_files(path: str, pattern: str, hint: str) -> List[str]:
    """The file `path`, or the files of the directory `path` that match `pattern`; a UserError if there are none."""
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(glob.escape(path), pattern)))
        if not files:
            raise UserError(f"directory {path} holds no {pattern} files", hint=hint)
        return files
    if not os.path.isfile(path):
        raise UserError(f"input {path} does not exist", hint=hint)
    return [path]


def _read_header(name: str, f: BinaryIO, required: Dict[str, str]) -> List[str]:
    """The column names exactly as CsvExampleGen takes them: the first line, stripped, split on commas.
    `required`: role ("text", "label", "text pair") -> the column that must be there."""
    raw = f.readline()
    if not raw.strip():
        raise UserError(f"{name} has no header line (the first line is empty)",
                        hint=f"the first line must name the columns, e.g. {','.join(required.values())}")
    if raw.startswith(codecs.BOM_UTF8):
        raise UserError(f"{name} starts with a byte-order mark, which TFX would read as part of the first column name",
                        hint="save the file as UTF-8 without BOM")
    line = _decode(name, 1, 0, raw).strip()
    if '"' in line:
        raise UserError(f"{name}:1: the header {line!r} quotes column names; TFX splits the header on commas only",
                        hint="write the column names without quotes and without commas")
    columns = line.split(",")
    missing = [c for c in required.values() if c not in columns]
    if missing:
        expected = ", ".join(f"{column!r} ({role})" for role, column in required.items())
        keys = " ".join(f"--set data.{role.replace(' ', '_')}_column=<name>" for role in required)
        separator = " (the file must be comma-separated)" if len(columns) == 1 else ""
        raise UserError(
            f"{name}: columns found {columns}, expected {expected}; missing {missing}. The first line must be a "
            "header naming the columns", hint=f"name your columns with {keys}{separator}")
    return columns


def _records(name: str, f: BinaryIO) -> Iterator[Tuple[int, List[str]]]:
    """Yields (first line number, fields) per record after the header, joining lines as CsvExampleGen does."""
    line_no, offset = 1, f.tell()
    pending: List[str] = []
    start = quotes = 0
    for raw in f:
        line_no += 1
        line = _decode(name, line_no, offset, raw)
        offset += len(raw)
        if not pending:
            start = line_no
        pending.append(line)
        quotes += line.count('"')
        if quotes % 2:
            continue
        record, pending, quotes = "".join(pending), [], 0
        try:
            fields = next(csv.reader([record]), [])
        except csv.Error as e:
            raise UserError(f"{name}:{start}: not valid CSV ({e})",
                            hint='enclose fields holding commas, quotes or line breaks in double quotes') from None
        if fields:
            yield start, fields
    if pending:
        raise UserError(f"{name}:{start}: a double quote opened here is never closed (the rest of the file would be "
                        "read as one field)",
                        hint='enclose such fields in double quotes and write a quote inside them as ""')


def _decode(name: str, line_no: int, offset: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{name}:{line_no}: not valid UTF-8 at byte offset {offset + e.start} "
                        f"(byte {raw[e.start:e.start + 1]!r})",
                        hint="re-save the file with UTF-8 encoding") from None


class _Problems:
    """Counts offending rows per kind of problem and keeps the first few locations to show."""

    def __init__(self):
        self._counts: collections.Counter = collections.Counter()
        self._examples: Dict[str, List[str]] = collections.defaultdict(list)

    def add(self, kind: str, where: str) -> None:
        self._counts[kind] += 1
        if len(self._examples[kind]) < _SHOWN:
            self._examples[kind].append(where)

    def raise_if_any(self) -> None:
        if not self._counts:
            return
        lines = []
        for kind, count in self._counts.items():
            more = f", ... {count - _SHOWN} more" if count > _SHOWN else ""
            lines.append(f"  {kind}: {count} row{'s' * (count != 1)}: {', '.join(self._examples[kind])}{more}")
        raise UserError("the input has bad rows:\n" + "\n".join(lines),
                        hint="fix or delete these rows; fields holding commas or quotes go in double quotes")


def check_data_csv(path: str, data) -> CsvSummary:
    """The CSV check with the columns a DataConfig names (the signature every input format's check shares)."""
    return check_csv(path, data.text_column, data.label_column, pair_column=data.text_pair_column)
