"""The parallel-text reader: TSV and CSV with quoting, columns by name, the Beam executor, and file:line errors."""
import apache_beam as beam
import pytest
from apache_beam.testing import util as beam_util
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from components.core import features
from components.core.config import DataConfig
from components.core.errors import UserError
from components.text import readers
from components.text.readers import parallel, parallel_check, parallel_format, reader_config

# As the software-messages data writes it: a tab-separated header, quoted fields with doubled quotes, an extra column.
TSV = ('source\ttarget\tcatalog\n! Spawn a subshell\t! Shell starten\ttar\n'
       '"""%s"" is not a number"\t»%s« ist keine Zahl\tpsql\n'
       '\nCould not open %1$s\t%1$s kann nicht geöffnet werden\tgit\n'
       '"two\nlines"\tzwei Zeilen\tx\n')
CSV = 'id,en,zh\n1,"Open %s, now",打开 %s\n2,Close,关闭\n'


def write(tmp_path, name, content):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def pairs(path, source="source", target="target"):
    with open(path, "rb") as f:
        return [(p.line, p.source, p.target) for p in parallel_format.read_pairs(f, path, source, target)]


def test_tsv_with_quotes_and_an_extra_column(tmp_path):
    assert pairs(write(tmp_path, "a.tsv", TSV)) == [
        (2, "! Spawn a subshell", "! Shell starten"), (3, '"%s" is not a number', "»%s« ist keine Zahl"),
        (5, "Could not open %1$s", "%1$s kann nicht geöffnet werden"), (6, "two\nlines", "zwei Zeilen")]


def test_csv_columns_are_chosen_by_name(tmp_path):
    assert pairs(write(tmp_path, "a.csv", CSV), "en", "zh") == [(2, "Open %s, now", "打开 %s"),
                                                               (3, "Close", "关闭")]


@pytest.mark.parametrize("content, message", [
    ("source\ttarget\nhello\t\n", "a.tsv:2: the 'target' side of this pair is empty"),
    ("source\ttarget\nok\tja\n\t  nein\n", "a.tsv:3: the 'source' side of this pair is empty"),
    ("source\ttarget\nok\tja\tzu viel\n", "a.tsv:2: 3 field(s), but the header has 2 columns"),
    ("en\tde\nok\tja\n", "a.tsv:1: columns found ['en', 'de'], expected 'source' (source) and 'target'"),
    (b"source\ttarget\nok\tja\ncaf\xe9\tx\n", "a.tsv:3: not valid UTF-8"),
    ('source\ttarget\n"open\tzu\n', "a.tsv:2: not valid TSV"),
])
def test_bad_rows_are_named_by_file_and_line(tmp_path, content, message):
    with pytest.raises(UserError) as error:
        pairs(write(tmp_path, "a.tsv", content))
    assert message in str(error.value)


def test_check_summarizes_and_refuses_empty_files_and_tiny_inputs(tmp_path):
    rows = "".join(f"line {i}\tZeile {i}\n" for i in range(12))
    write(tmp_path, "data/a.tsv", "source\ttarget\n" + rows)
    write(tmp_path, "data/b.csv", "source,target\nyes,ja\n")
    summary = parallel_check.check_data_parallel(str(tmp_path / "data"), DataConfig())
    assert (summary.rows, len(summary.files), summary.label_counts) == (13, 2, {})
    assert summary.describe().startswith("13 pairs in 2 files")
    write(tmp_path, "data/c.tsv", "source\ttarget\n")
    with pytest.raises(UserError, match="c.tsv holds no pairs"):
        parallel_check.check_data_parallel(str(tmp_path / "data"), DataConfig())
    with pytest.raises(UserError, match="at least 10 are needed"):
        parallel_check.check_data_parallel(write(tmp_path, "small.tsv", "source\ttarget\na\tb\n"), DataConfig())
    with pytest.raises(UserError, match="holds no pairs"):
        parallel_check.check_data_parallel(write(tmp_path, "empty.tsv", ""), DataConfig())


def test_executor_writes_one_example_per_pair_per_split_with_the_configured_columns(tmp_path):
    write(tmp_path, "train/a.tsv", "en\tde\nYes\tJa\n")
    write(tmp_path, "train/b.csv", "de,en\n\"Nein, danke\",\"No, thanks\"\n")
    write(tmp_path, "eval/c.tsv", "de\ten\nDatei %s\tFile %s\n")
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="train",
                                    pattern="train/" + readers.FORMATS[readers.PARALLEL].directory_pattern),
        example_gen_pb2.Input.Split(name="eval", pattern="eval/*")])
    exec_properties = {
        "input_base": str(tmp_path),
        "input_config": proto_utils.proto_to_json(input_config),
        "output_config": proto_utils.proto_to_json(example_gen_pb2.Output()),
        "custom_config": proto_utils.proto_to_json(reader_config.pack(vars(DataConfig(source_column="en",
                                                                                         target_column="de")))),
    }
    expected = {"train": [("Yes", "Ja"), ("No, thanks", "Nein, danke")], "eval": [("File %s", "Datei %s")]}
    with beam.Pipeline() as pipeline:
        splits = parallel.Executor().GenerateExamplesByBeam(pipeline, exec_properties)
        for name, rows in expected.items():
            beam_util.assert_that(splits[name] | f"Decode{name}" >> beam.Map(_decode), beam_util.equal_to(rows),
                                  label=f"Check{name}")


def _decode(example):
    f = example.features.feature
    return f[features.SOURCE].bytes_list.value[0].decode(), f[features.TARGET].bytes_list.value[0].decode()


def test_spans_of_parallel_text_resolve_as_tfx_and_the_scheduler_find_them(tmp_path):
    from tfx.components.example_gen import utils as example_gen_utils

    from pipeline import spans

    pattern = readers.FORMATS[readers.PARALLEL].directory_pattern
    write(tmp_path, "pairs/span-1/a.tsv", "source\ttarget\na\tb\n")
    write(tmp_path, "pairs/span-2/b.csv", "source,target\na,b\n")
    write(tmp_path, "pairs/span-3/notes.txt", "not a span yet")
    found = spans.find_spans(str(tmp_path / "pairs" / "span-{SPAN}"), pattern)
    assert [s.number for s in found] == [1, 2]
    split = example_gen_pb2.Input.Split(name="train", pattern=f"span-{{SPAN}}/{pattern}")
    _, span, _ = example_gen_utils.calculate_splits_fingerprint_span_and_version(str(tmp_path / "pairs"), [split])
    assert (span, split.pattern) == (2, f"span-2/{pattern}")
