"""The CoNLL reader: golden sentences for each line convention, Beam output per split, and the check's messages."""
import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing import util as beam_util
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from components.core import features
from components.core.config import DataConfig
from components.core.errors import UserError
from components.nn.crf import CRF, allowed_transitions
from components.text.readers import conll, conll_check, conll_format, reader_config, tag_schemes

# CoNLL-2003 style: 4 space-separated columns, document markers, blank lines; the tag is the last column.
CONLL2003 = ("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
             "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n\n-DOCSTART- -X- -X- O\nBRUSSELS NNP B-NP B-LOC\n")
# WNUT-17 style: tab-separated, a line holding a single TAB between sentences, CRLF endings, no final newline.
WNUT = "Empire\tB-location\r\nState\tI-location\r\n\t\r\nFrom\tO\r\nGreen\tB-person\r\n \t \r\nok\tO"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def sentences(path, token_index=0, tag_index=-1):
    with open(path, "rb") as f:
        return [(s.line, s.tokens, s.tags) for s in conll_format.read_sentences(f, "x", token_index, tag_index)]


def test_space_separated_columns_with_document_markers(tmp_path):
    assert sentences(write(tmp_path, "a.conll", CONLL2003)) == [
        (3, ("EU", "rejects", "German"), ("B-ORG", "O", "B-MISC")),
        (7, ("Peter", "Blackburn"), ("B-PER", "I-PER")),
        (12, ("BRUSSELS",), ("B-LOC",))]


def test_tabs_and_whitespace_only_lines_break_sentences(tmp_path):
    assert sentences(write(tmp_path, "a.conll", WNUT)) == [
        (1, ("Empire", "State"), ("B-location", "I-location")),
        (4, ("From", "Green"), ("O", "B-person")),
        (7, ("ok",), ("O",))]


def test_columns_are_chosen_by_index(tmp_path):
    path = write(tmp_path, "a.conll", "B-PER\tx\tZoë\n\nO\ty\tvisited\n")
    assert sentences(path, token_index=2, tag_index=0) == [(1, ("Zoë",), ("B-PER",)), (3, ("visited",), ("O",))]


def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path):
    path = write(tmp_path, "a.conll", "\ufeffParis B-LOC\n")
    assert sentences(path) == [(1, ("Paris",), ("B-LOC",))]


@pytest.mark.parametrize("content, message", [
    ("Paris B-LOC\nrains\n", "x:2: 1 column(s) ['rains'], so there is no word in column 0 and tag in column -1"),
    ("New York\tB-LOC\n", "x:1: the columns differ when split on tabs or on whitespace"),
    ("Paris\t\tB-LOC\n", "x:1: the columns differ when split on tabs or on whitespace"),
    ("Paris LOC\n", "x:1: tag 'LOC' (column -1) is neither 'O' nor '<B|I|E|S>-TYPE'"),
    (b"Paris B-LOC\nS\xe3o B-LOC\n", "x:2: not valid UTF-8 text"),
])
def test_bad_lines_are_named_by_file_and_line(tmp_path, content, message):
    with pytest.raises(UserError, match="^" + message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        sentences(write(tmp_path, "a.conll", content))


def test_check_summarizes_a_directory(tmp_path):
    write(tmp_path, "data/a.conll", CONLL2003 * 2)
    write(tmp_path, "data/b.conll", "\n".join(["Paris B-LOC\nrains O\n"] * 6))
    write(tmp_path, "data/notes.txt", "not read")
    summary = conll_check.check_data_conll(str(tmp_path / "data"), DataConfig())
    assert summary.rows == 12 and summary.words == 2 * 6 + 2 * 6 and summary.longest == 3
    assert summary.label_counts == {"B-LOC": 8, "B-MISC": 2, "B-ORG": 2, "B-PER": 2, "I-PER": 2, "O": 8}
    assert summary.describe().startswith("12 sentences (24 words, the longest 3) in 2 files; 6 tags: B-LOC 8, O 8")


@pytest.mark.parametrize("files, message", [
    ({"a.conll": "Paris B-LOC\n" * 12, "b.conll": "\n\t\n-DOCSTART- O\n"}, r"b.conll holds no sentence"),
    ({"a.conll": "Paris B-LOC\n\n" * 3}, r"has 3 sentences; at least 10 are needed"),
    ({"a.conll": "Paris O\n\n" * 12}, r"every tag in .* is 'O': there is no entity to learn"),
    ({}, r"holds no \*.conll files"),
])
def test_check_refuses_inputs_that_cannot_train(tmp_path, files, message):
    (tmp_path / "data").mkdir()
    for name, content in files.items():
        write(tmp_path, f"data/{name}", content)
    with pytest.raises(UserError, match=message):
        conll_check.check_data_conll(str(tmp_path / "data"), DataConfig())


def test_executor_writes_one_example_per_sentence_per_split(tmp_path):
    write(tmp_path, "train/a.conll", CONLL2003)
    write(tmp_path, "eval/b.conll", "Zoë\tO\n")
    expected = {"train": [(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
                          (["Peter", "Blackburn"], ["B-PER", "I-PER"]), (["BRUSSELS"], ["B-LOC"])],
                "eval": [(["Zoë"], ["O"])]}
    _run(_exec_properties(tmp_path, DataConfig()), expected)


def test_executor_takes_the_columns_from_custom_config(tmp_path):
    write(tmp_path, "train/a.conll", "B-PER x Zoë\nO y visited\n")
    write(tmp_path, "eval/b.conll", "B-LOC z Paris\n")
    expected = {"train": [(["Zoë", "visited"], ["B-PER", "O"])], "eval": [(["Paris"], ["B-LOC"])]}
    _run(_exec_properties(tmp_path, DataConfig(token_column_index=2, tag_column_index=0)), expected)


def _exec_properties(tmp_path, data):
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="train", pattern="train/*.conll"),
        example_gen_pb2.Input.Split(name="eval", pattern="eval/*")])
    return {
        "input_base": str(tmp_path),
        "input_config": proto_utils.proto_to_json(input_config),
        "output_config": proto_utils.proto_to_json(example_gen_pb2.Output()),
        "custom_config": proto_utils.proto_to_json(reader_config.pack(vars(data))),
    }


def _run(exec_properties, expected):
    with beam.Pipeline() as pipeline:
        splits = conll.Executor().GenerateExamplesByBeam(pipeline, exec_properties)
        for name, rows in expected.items():
            beam_util.assert_that(splits[name] | f"Decode{name}" >> beam.Map(_decode), beam_util.equal_to(rows),
                                  label=f"Check{name}")


def _decode(example):
    f = example.features.feature
    return ([t.decode() for t in f[features.TOKENS].bytes_list.value],
            [t.decode() for t in f[features.TAGS].bytes_list.value])


def test_the_runner_names_eval_tags_the_training_data_lacks(tmp_path, caplog):
    from components.text import readers
    from pipeline import local_runner

    train = write(tmp_path, "train.conll", "Paris B-LOC\nrains O\n\n" * 10)
    dev = write(tmp_path, "dev.conll", "Oslo B-GPE\nrains O\n\n" * 9 + "Oslo B-LOC\n")
    with caplog.at_level("WARNING"):
        assert local_runner.check_inputs(DataConfig(eval_path=dev), train, readers.FORMATS[readers.CONLL]) == 2
    assert "that " + train + " lacks, so no model can predict them (label: rows or words): {'B-GPE': 9}" in caplog.text


@pytest.mark.parametrize("tags, scheme, expected, repaired", [
    (["B-PER", "I-PER", "O", "B-LOC"], "auto", ["B-PER", "I-PER", "O", "B-LOC"], 0),  # valid BIO stays
    (["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], "auto", ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"], 2),  # IOB1
    (["B-PER", "I-ORG", "O"], "bio", ["B-PER", "B-ORG", "O"], 1),  # another type opens a new entity
    (["B-PER", "E-PER", "O", "S-LOC"], "auto", ["B-PER", "E-PER", "O", "S-LOC"], 0),  # valid BIOES stays
    (["E-PER", "O", "B-LOC", "O", "I-ORG", "E-ORG"], "auto", ["S-PER", "O", "S-LOC", "O", "B-ORG", "E-ORG"], 3),
    (["B-PER", "I-PER"], "bioes", ["B-PER", "E-PER"], 1),  # an entity left open is closed
])
def test_tags_are_normalized_to_a_valid_sequence_of_their_scheme(tags, scheme, expected, repaired):
    assert tag_schemes.normalize(tags, scheme) == (tuple(expected), repaired)
    start, transitions, end = allowed_transitions(sorted(set(expected) | {"O"}))
    index = {tag: i for i, tag in enumerate(sorted(set(expected) | {"O"}))}
    path = [index[tag] for tag in expected]
    assert start[path[0]] and end[path[-1]] and all(transitions[a, b] for a, b in zip(path, path[1:]))


def test_an_iob1_file_is_read_as_bio_and_its_repairs_are_counted(tmp_path):
    (tmp_path / "iob1.conll").write_text("-DOCSTART- O\n\nEU I-ORG\nrejects O\nGerman I-MISC\ncall O\n\n"
                                         "Peter I-PER\nBlackburn I-PER\n\n" + "x O\n\n" * 10, encoding="utf-8")
    summary = conll_check.check_conll(str(tmp_path / "iob1.conll"), 0, -1)
    assert summary.repaired == 3 and summary.label_counts["B-ORG"] == 1 and "I-ORG" not in summary.label_counts
    assert "3 tags repaired" in summary.describe()
    with open(tmp_path / "iob1.conll", "rb") as f:
        first, second = list(conll_format.read_sentences(f, "iob1.conll", 0, -1))[:2]
    assert first.tags == ("B-ORG", "O", "B-MISC", "O") and second.tags == ("B-PER", "I-PER")


def test_the_crf_loss_of_a_repaired_iob1_sentence_is_finite_and_readable():
    tag_names = ["B-PER", "I-PER", "O"]
    crf = CRF(len(tag_names), tag_names=tag_names, bio_constraints=True)
    emissions = np.zeros((1, 3, 3), "float32")
    raw = ["I-PER", "I-PER", "O"]  # IOB1: the entity opens with I-PER, a move BIO forbids
    fixed, _ = tag_schemes.normalize(raw)
    losses = [-float(crf.log_likelihood(emissions, np.array([[tag_names.index(t) for t in tags]]))[0])
              for tags in (raw, fixed)]
    assert losses[0] > 1e3 > losses[1] and 0 < losses[1] < 10  # ~log(valid paths) instead of the 1e4 penalty
