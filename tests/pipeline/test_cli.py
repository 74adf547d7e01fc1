"""Bad input through the real command line: one `error:` message naming the problem, exit code 2, no traceback."""
import os
import subprocess
import sys

import pytest

from tests import ROOT
from tests.generated_data import sentiment_rows, write_csv


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": ROOT})


def _assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    error = result.stderr[result.stderr.index("error: "):]
    for fragment in fragments:
        assert fragment in error, error


def test_unknown_override_key(tmp_path):
    _assert_user_error(_cli("run", "--set", "training.epochz=2", cwd=tmp_path), "training.epochz", "known keys")


def test_malformed_preset(tmp_path):
    (tmp_path / "p.yaml").write_text("training: {epochs: [\n")
    _assert_user_error(_cli("run", f"--config={tmp_path / 'p.yaml'}", cwd=tmp_path), "p.yaml", "not valid YAML")


def test_unknown_command(tmp_path):
    _assert_user_error(_cli("train", cwd=tmp_path), "expected one command")


def test_missing_input_file(tmp_path):
    _assert_user_error(_cli("run", f"--set=data.input_path={tmp_path / 'nope.csv'}", cwd=tmp_path), "nope.csv")


def test_wrong_text_column_and_workdir_left_untouched(tmp_path):
    data = write_csv(tmp_path / "r.csv", sentiment_rows(40), header=("review", "label"))
    result = _cli("run", f"--set=data.input_path={data}", f"--workdir={tmp_path / 'work'}", cwd=tmp_path)
    _assert_user_error(result, "r.csv", "review", "data.text_column")
    assert not (tmp_path / "work" / "serving").exists()


def test_serve_without_a_pushed_model(tmp_path):
    _assert_user_error(_cli("serve", f"--workdir={tmp_path}", cwd=tmp_path), "no pushed model", "run")


def test_predict_for_a_pair_model_needs_one_text_pair_per_text(tmp_path):
    result = _cli("predict", "--set=data.text_pair_column=hypothesis", "--text=a", "--text_pair=b", "--text=c",
                  cwd=tmp_path)
    _assert_user_error(result, "one text_pair per text (got 2 texts and 1 text_pairs)", "--text_pair=")


def test_report_without_any_run(tmp_path):
    _assert_user_error(_cli("report", f"--workdir={tmp_path}", cwd=tmp_path), "'text-classifier' has no runs",
                       "run it first")


@pytest.mark.parametrize("bad", ["\xff\xfe broken bytes", "   "])
def test_bad_text_rows_name_the_line(tmp_path, bad):
    rows = list(sentiment_rows(40))
    path = tmp_path / "r.csv"
    write_csv(path, rows)
    lines = path.read_bytes().split(b"\n")
    lines[5] = (bad.encode("latin-1") if "\xff" in bad else bad.encode()) + b",positive\r"
    path.write_bytes(b"\n".join(lines))
    _assert_user_error(_cli("run", f"--set=data.input_path={path}", cwd=tmp_path), "r.csv", "6")


SCHEMA = """
feature { name: "text" type: BYTES presence { min_fraction: 1.0 min_count: 1 } shape { dim { size: 1 } } }
feature { name: "label" type: BYTES domain: "label" presence { min_fraction: 1.0 min_count: 1 }
          shape { dim { size: 1 } } }
string_domain { name: "label" value: "negative" value: "positive" }
"""


def test_labels_outside_the_schema_stop_the_run_before_training(tmp_path):
    rows = [(text, "neutral" if i % 7 == 0 else label) for i, (text, label) in enumerate(sentiment_rows(60))]
    data = write_csv(tmp_path / "r.csv", rows)
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    result = _cli("run", f"--set=data.input_path={data}", f"--set=data.schema_path={tmp_path / 'schema.pbtxt'}",
                  f"--workdir={tmp_path / 'work'}", cwd=tmp_path)
    _assert_user_error(result, "does not match the schema", "'label'", "neutral")
    assert not list((tmp_path / "work" / "pipeline_root").glob("Trainer*"))
