"""The text-corpus reader: golden documents per split mode, .gz, Beam output, and the up-front check's errors."""
import gzip

import apache_beam as beam
import pytest
from apache_beam.testing import util as beam_util
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from components.core.config import DataConfig
from components.core.errors import UserError
from components.text.readers import reader_config, text_check, text_corpus

CORPUS = "First line of one.\r\nSecond line of one.\n\n\n  Block two, only line.  \nhi\n\nThird block here.\n"


def write(tmp_path, name, content):
    path = tmp_path / name
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return str(path)


def test_blank_line_blocks_are_documents_with_sentences_in_order(tmp_path):
    path = write(tmp_path, "a.txt", CORPUS)
    with text_documents_open(path) as docs:
        assert [(d.doc_id, d.sentences) for d in docs] == [
            ("a.txt:1", ("First line of one.", "Second line of one.")),
            ("a.txt:5", ("Block two, only line.", "hi")),
            ("a.txt:8", ("Third block here.",))]


def test_a_file_is_one_document_and_short_documents_are_skipped(tmp_path):
    path = write(tmp_path, "a.txt.gz", CORPUS)
    with text_documents_open(path, split="file") as docs:
        (doc,) = docs
    assert doc.doc_id == "a.txt.gz" and len(doc.sentences) == 5
    assert doc.text == "First line of one.\nSecond line of one.\nBlock two, only line.\nhi\nThird block here."
    with text_documents_open(path, min_words=4) as docs:
        assert [d.doc_id for d in docs] == ["a.txt.gz:1", "a.txt.gz:5"]


class text_documents_open:  # noqa: N801  (a context manager that reads like a function)
    def __init__(self, path, split="blank_line", min_words=1):
        from components.text.readers import text_documents
        self._f = text_documents.open_binary(path)
        self._docs = text_documents.read_documents(self._f, path.rsplit("/", 1)[-1], split, min_words)

    def __enter__(self):
        return list(self._docs)

    def __exit__(self, *exc):
        self._f.close()


def test_executor_writes_one_example_per_document_per_split(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "eval").mkdir()
    write(tmp_path, "train/a.txt", CORPUS)
    write(tmp_path, "train/b.txt.gz", "Gzipped document, one line.\n")
    write(tmp_path, "eval/c.txt", "An eval document\nof two lines.\n")
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="train", pattern="train/*.txt*"),
        example_gen_pb2.Input.Split(name="eval", pattern="eval/*")])
    data = DataConfig(document_split="blank_line", min_document_words=2)
    exec_properties = {
        "input_base": str(tmp_path),
        "input_config": proto_utils.proto_to_json(input_config),
        "output_config": proto_utils.proto_to_json(example_gen_pb2.Output()),
        "custom_config": proto_utils.proto_to_json(reader_config.pack(vars(data))),
    }
    expected = {
        "train": [("train/a.txt:1", ["First line of one.", "Second line of one."]),
                  ("train/a.txt:5", ["Block two, only line.", "hi"]),
                  ("train/a.txt:8", ["Third block here."]),
                  ("train/b.txt.gz:1", ["Gzipped document, one line."])],
        "eval": [("eval/c.txt:1", ["An eval document", "of two lines."])],
    }
    with beam.Pipeline() as pipeline:
        splits = text_corpus.Executor().GenerateExamplesByBeam(pipeline, exec_properties)
        for name, documents in expected.items():
            beam_util.assert_that(splits[name] | f"Decode{name}" >> beam.Map(_decode),
                                  beam_util.equal_to(documents), label=f"Check{name}")


def _decode(example):
    f = example.features.feature
    sentences = [s.decode() for s in f[text_corpus.SENTENCES].bytes_list.value]
    assert f[text_corpus.TEXT].bytes_list.value == ["\n".join(sentences).encode()]
    return f[text_corpus.DOC_ID].bytes_list.value[0].decode(), sentences


def test_check_counts_documents_of_a_directory(tmp_path):
    write(tmp_path, "a.txt", CORPUS)
    write(tmp_path, "b.txt.gz", "Gzipped document, one line.\n")
    write(tmp_path, "notes.md", "\0 not read")
    summary = text_check.check_data_text(str(tmp_path), DataConfig(document_split="blank_line"))
    assert summary.rows == 4 and summary.words == 20 and summary.label_counts == {}
    assert summary.describe() == "4 documents (20 words) in 2 files; a document is a blank-line-separated block"
    assert text_check.check_data_text(str(tmp_path), DataConfig()).rows == 2  # document_split=file


@pytest.mark.parametrize("name, content, message", [
    ("bin.txt", b"text\n\x00\x01\x02\n", "bin.txt:2: holds NUL bytes, so it is not a text file"),
    ("latin.txt", "ok\ncaf\xe9\n".encode("latin-1"), "latin.txt:2: not valid UTF-8 text (byte b'\\xe9' at column 4)"),
    ("fake.txt.gz", b"not gzip at all", "fake.txt.gz:1: cannot be read as gzipped text"),
    ("empty.txt", b"\n  \n", "is empty: 1 file(s) without any text"),
    ("short.txt", b"one two\n\nthree\n", "no document in"),
])
def test_check_names_the_bad_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        text_check.check_text(str(path), "blank_line", min_words=3)
    assert message in str(info.value)


def test_check_reads_globs_and_span_patterns(tmp_path):
    write(tmp_path, "part-1.txt", "span one has words\n")
    write(tmp_path, "part-2.txt", "span two has words\n")
    assert text_check.check_text(str(tmp_path / "part-{SPAN}.txt"), "file", 1).rows == 2
    with pytest.raises(UserError, match="no file matches"):
        text_check.check_text(str(tmp_path / "other-{SPAN}.txt"), "file", 1)
