"""Writing the report at the end of a run never turns the run into a failure."""
import logging

from components.core import config as config_lib
from pipeline.report import build
from pipeline.run_report import RunReport


def test_a_report_that_cannot_be_written_is_a_warning_naming_the_retry(monkeypatch, caplog):
    def broken(*_):
        raise RuntimeError("no statistics")

    monkeypatch.setattr(build, "write", broken)
    run = RunReport("2026-11-30T03:00:00.000001", [], blessed=True, pushed_version="7")
    with caplog.at_level(logging.WARNING, logger="tfx_text"):
        assert build.write_after_run(config_lib.load(None, []), "unused", run) is None
    assert "RuntimeError: no statistics" in caplog.text
    assert "report --run=2026-11-30T03:00:00.000001" in caplog.text

