"""The demo CSV is built from a synthetic sdist with the real layout; the download is injected, so no network."""
import csv
import io
import os
import shutil
import tarfile

import pytest

from components.core.errors import UserError
from components.text.input_checks import check_csv
from pipeline import demo_data

SNIPPETS = (
    "1\t2.5\tA ''great'' film,  truly.\r\n"
    "2\t-3.0\tDull and   long\r\n"
    "3\t0.0\tIt is a film.\r\n"
    "4\t0.4\tSomewhat okay.\r\n"
    "5\t-0.5\tMeh, café food.\r\n"
    "6\t1.2\tDull and long\r\n"
    + "".join(f"{7 + i}\t{1.5 if i % 2 else -1.5}\tsnippet {i}\r\n" for i in range(8))
    + "15\t0.49\tlast line, no line break"
)
EXPECTED = [
    ['A "great" film, truly.', "positive"],
    ["Dull and long", "negative"],
    ["Meh, café food.", "negative"],
] + [[f"snippet {i}", "positive" if i % 2 else "negative"] for i in range(8)]


def tar_gz(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def make_sdist(tmp_path, snippets=SNIPPETS.encode("utf-8"), nested_name="hutto_ICWSM_2014.tar.gz",
               snippets_name="hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"):
    """An archive laid out like the real vaderSentiment-3.3.2.tar.gz, with a tarball of snippet files inside."""
    nested = tar_gz(tmp_path / "nested.tar.gz", {snippets_name: snippets,
                                                 "hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t3.0\tnot me\r\n"})
    with open(nested, "rb") as f:
        return tar_gz(tmp_path / "vaderSentiment-3.3.2.tar.gz", {
            "vaderSentiment-3.3.2/setup.py": b"",
            f"vaderSentiment-3.3.2/additional_resources/{nested_name}": f.read(),
        })


def no_fetch(dest_dir):
    raise AssertionError("the download must not be called")


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_builds_binarised_quoted_utf8_csv(tmp_path):
    path = demo_data.ensure_demo_csv(str(tmp_path / "cache"), sdist_path=make_sdist(tmp_path), fetch=no_fetch)
    assert read_rows(path) == [["text", "label"]] + EXPECTED
    with open(path, "rb") as f:
        assert f.read().splitlines()[1] == b'"A ""great"" film, truly.",positive'
    assert check_csv(path, "text", "label").label_counts == {"negative": 6, "positive": 5}


def test_fetches_once_into_a_temp_dir_then_uses_the_cache(tmp_path, capsys):
    sdist = make_sdist(tmp_path)
    fetch_dirs = []

    def fetch(dest_dir):
        fetch_dirs.append(dest_dir)
        return shutil.copy(sdist, dest_dir)

    cache = str(tmp_path / "cache")
    first = demo_data.ensure_demo_csv(cache, fetch=fetch)
    assert "fetching demo data" in capsys.readouterr().err
    assert demo_data.ensure_demo_csv(cache, fetch=fetch) == first
    assert capsys.readouterr().err == ""
    assert len(fetch_dirs) == 1 and not os.path.exists(fetch_dirs[0])
    assert os.listdir(cache) == [demo_data.CSV_NAME]


def test_invalid_cached_file_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / demo_data.CSV_NAME).write_text("text,label\ncut short")
    path = demo_data.ensure_demo_csv(str(cache), sdist_path=make_sdist(tmp_path), fetch=no_fetch)
    assert read_rows(path)[1:] == EXPECTED


def test_sdist_from_the_environment_is_used_offline(tmp_path, monkeypatch):
    monkeypatch.setenv(demo_data.SDIST_ENV, make_sdist(tmp_path))
    assert read_rows(demo_data.ensure_demo_csv(str(tmp_path / "cache"), fetch=no_fetch))[1:] == EXPECTED


@pytest.mark.parametrize("layout, missing", [
    (dict(nested_name="other.tar.gz"), "additional_resources/hutto_ICWSM_2014.tar.gz"),
    (dict(snippets_name="hutto_ICWSM_2014/other.txt"), "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"),
])
def test_archive_without_the_snippets_is_a_user_error(tmp_path, layout, missing):
    with pytest.raises(UserError) as info:
        demo_data.ensure_demo_csv(str(tmp_path / "cache"), sdist_path=make_sdist(tmp_path, **layout), fetch=no_fetch)
    assert missing in str(info.value) and "data.input_path=" in str(info.value)


def test_unreadable_archive_leaves_nothing_in_the_cache(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    with pytest.raises(UserError, match="cannot read .*bogus.tar.gz"):
        demo_data.ensure_demo_csv(str(tmp_path / "cache"), sdist_path=str(bogus), fetch=no_fetch)
    assert os.listdir(tmp_path / "cache") == []


def test_csv_failing_the_input_check_is_not_cached(tmp_path):
    sdist = make_sdist(tmp_path, snippets=b"1\t2.0\tgood\r\n2\t-2.0\tbad\r\n")
    with pytest.raises(UserError, match="2 labelled rows"):
        demo_data.ensure_demo_csv(str(tmp_path / "cache"), sdist_path=sdist, fetch=no_fetch)
    assert os.listdir(tmp_path / "cache") == []


def test_malformed_snippet_line_is_named(tmp_path):
    sdist = make_sdist(tmp_path, snippets=b"1\t2.0\tfine\r\n2\tnot a number\tbroken\r\n")
    with pytest.raises(UserError, match="movieReviewSnippets_GroundTruth.txt:2 is not ID<TAB>RATING<TAB>TEXT"):
        demo_data.ensure_demo_csv(str(tmp_path / "cache"), sdist_path=sdist, fetch=no_fetch)


def test_failed_pip_download_is_a_user_error(tmp_path, monkeypatch):
    """pip with no index fails the way it does offline, without touching the network."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(UserError) as info:
        demo_data.download_sdist(str(tmp_path))
    assert "could not download the demo data (vaderSentiment==3.3.2)" in str(info.value)
    assert "data.input_path=" in str(info.value)


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("RUN_NETWORK_TESTS") != "1", reason="set RUN_NETWORK_TESTS=1 to download")
def test_real_download(tmp_path):
    path = demo_data.ensure_demo_csv(str(tmp_path))
    summary = check_csv(path, "text", "label")
    assert summary.label_counts == {"negative": 5075, "positive": 4995}
    assert ["Effective but too tepid biopic", "negative"] in read_rows(path)
