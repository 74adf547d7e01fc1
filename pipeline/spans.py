"""Spans: `data.input_path` with {SPAN} in its last part names one file or directory per span number.

ExampleGen ingests the newest span on each run; LatestSpans hands the newest N of them to Transform. The same rule
decides, here and on Kubeflow, whether a span is a file or a directory: a last part that matches the input format's
file pattern (`reviews-{SPAN}.csv` for `*.csv`) is a file, anything else (`span-{SPAN}`) is a directory of such files.
"""
import dataclasses
import fnmatch
import os
import re
from typing import List, Optional, Tuple

from tfx import v1 as tfx

from components.core.config import SPAN
from components.core.errors import UserError


@dataclasses.dataclass(frozen=True)
class Span:
    number: int
    path: str  # the span's file, or its directory


class LatestSpans(tfx.dsl.experimental.ResolverStrategy):
    """The newest `num_spans` spans ExampleGen ingested in any run, one artifact per span (the latest ingestion).

    TFX 1.16's ExampleGen records the span as a custom property: canned rolling_range reads the `span` property (0
    for all, so it keeps one artifact), and SpanRangeStrategy keeps every re-ingested copy of a span.
    """

    def __init__(self, num_spans: int):
        self._num_spans = num_spans

    def resolve_artifacts(self, store, input_dict):
        result = {}
        for key, artifacts in input_dict.items():
            latest = {}
            for artifact in sorted(artifacts, key=lambda a: a.id):  # MLMD ids grow: a later ingestion wins
                latest[artifact.get_int_custom_property("span")] = artifact
            result[key] = [latest[span] for span in sorted(latest)[-self._num_spans:]]
        return result if all(result.values()) else None


def example_gen_input(path: str, directory_pattern: str) -> Tuple[str, str]:
    """(input_base, pattern) for ExampleGen from a file, a directory, or either with {SPAN}. Works on URIs too."""
    path = path.rstrip("/")
    head, _, last = path.rpartition("/")
    if SPAN in last:
        return head, last if _is_file(last, directory_pattern) else f"{last}/{directory_pattern}"
    if _is_file(last, directory_pattern):
        return head, last
    return path, directory_pattern


def example_gen_inputs(input_path: str, eval_path: str, directory_pattern: str) -> Tuple[str, str, Optional[str]]:
    """(input_base, train_pattern, eval_pattern): ExampleGen reads one base, so both become patterns under it."""
    base, train = example_gen_input(input_path, directory_pattern)
    if not eval_path:
        return base, train, None
    eval_base, evaluation = example_gen_input(eval_path, directory_pattern)
    common = _common_prefix(base, eval_base)
    return common, _below(common, base, train), _below(common, eval_base, evaluation)


def find_spans(input_path: str, directory_pattern: str) -> List[Span]:
    """The spans on disk, oldest first; a directory counts once it holds a file, so a half-copied one is not used."""
    head, _, last = os.path.abspath(input_path).rpartition("/")
    prefix, _, suffix = last.partition(SPAN)
    matcher = re.compile(re.escape(prefix) + r"(.*)" + re.escape(suffix) + r"\Z")
    is_file = _is_file(last, directory_pattern)
    found = []
    for name in sorted(os.listdir(head)) if os.path.isdir(head) else []:
        match = matcher.match(name)
        path = os.path.join(head, name)
        if not match or not (os.path.isfile(path) if is_file else _holds_files(path, directory_pattern)):
            continue
        if not match.group(1).isdigit():  # TFX's ExampleGen would fail on it at run time
            raise UserError(f"{path} matches data.input_path={input_path!r}, but {match.group(1)!r} is not a span "
                            "number",
                            hint="name spans with whole numbers only, or move the entry out of that directory")
        found.append(Span(int(match.group(1)), path))
    if not found:
        raise UserError(f"no spans found for data.input_path={input_path!r}",
                        hint=f"{SPAN} stands for a whole number: e.g. {head}/{last.replace(SPAN, '1')}"
                             + ("" if is_file else f" holding {directory_pattern} files"))
    return sorted(found, key=lambda s: s.number)


def _is_file(last: str, directory_pattern: str) -> bool:
    return fnmatch.fnmatch(last.replace(SPAN, "0"), directory_pattern)


def _holds_files(directory: str, pattern: str) -> bool:
    return os.path.isdir(directory) and any(fnmatch.fnmatch(n, pattern) for n in os.listdir(directory))


def _common_prefix(a: str, b: str) -> str:
    """The longest common directory of two paths or URIs (os.path.commonpath would fold gs:// into gs:/)."""
    common = []
    for x, y in zip(a.split("/"), b.split("/")):
        if x != y:
            break
        common.append(x)
    return "/".join(common) or "/"


def _below(common: str, base: str, pattern: str) -> str:
    return f"{base[len(common):].strip('/')}/{pattern}".lstrip("/")
