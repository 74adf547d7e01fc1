"""The work directory's layout, defined once: everything a run writes lives under it (the data may live anywhere).

    <workdir>/metadata.sqlite            ML Metadata (SQLite)
    <workdir>/pipeline_root/             component outputs
    <workdir>/serving/<model>/<version>/ what the Pusher writes and `serve` serves
    <workdir>/data/                      the demo data, fetched once
    <workdir>/reports/<run id>.html      each run's report (`report` rewrites it)
    <workdir>/schedule.lock              held by the scheduler that is firing
"""
import dataclasses
import os
import re


@dataclasses.dataclass(frozen=True)
class Workdir:
    root: str

    def __post_init__(self):
        object.__setattr__(self, "root", os.path.abspath(self.root))

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.root, "metadata.sqlite")

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.root, "pipeline_root")

    @property
    def serving_root(self) -> str:
        return os.path.join(self.root, "serving")

    def model_dir(self, model_name: str) -> str:
        """Where the Pusher writes <version>/ directories of `model_name`."""
        return os.path.join(self.serving_root, model_name)

    @property
    def data_dir(self) -> str:
        return os.path.join(self.root, "data")

    def report_path(self, run_id: str) -> str:
        """The HTML report of run `run_id` (ML Metadata's pipeline_run name, a timestamp: ':' becomes '-')."""
        return os.path.join(self.root, "reports", re.sub(r"[^\w.-]", "-", run_id) + ".html")

    @property
    def schedule_lock(self) -> str:
        return os.path.join(self.root, "schedule.lock")
