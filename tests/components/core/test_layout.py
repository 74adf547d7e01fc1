"""The work directory's layout is defined once; the CLI, status, schedule and benches all read it from there."""
import os

from components.core.layout import Workdir


def test_everything_lives_under_the_absolute_work_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    layout = Workdir("work")
    assert layout.root == str(tmp_path / "work")
    paths = [layout.metadata_path, layout.pipeline_root, layout.serving_root, layout.model_dir("m"), layout.data_dir,
             layout.schedule_lock, layout.report_path("2026-11-30T10:20:00.123456")]
    assert all(os.path.commonpath([layout.root, path]) == layout.root for path in paths)
    assert len(set(paths)) == len(paths)
    assert layout.model_dir("m") == os.path.join(layout.serving_root, "m")  # what the Pusher writes and serve reads


def test_a_run_report_is_named_after_its_run_in_a_portable_file_name():
    path = Workdir("/w").report_path("2026-11-30T10:20:00.123456")
    assert path == os.path.join("/w", "reports", "2026-11-30T10-20-00.123456.html")
