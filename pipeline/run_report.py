"""What a pipeline run did, read back from ML Metadata: per-component state and time, blessing, pushed version,
the newest span it ingested, where the Evaluator wrote its metrics, and where every component read and wrote."""
import dataclasses
from typing import Dict, List, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

_STATE = metadata_store_pb2.Execution.State


@dataclasses.dataclass(frozen=True)
class ComponentRun:
    component_id: str
    state: str  # COMPLETE, CACHED, FAILED, ...
    seconds: float


@dataclasses.dataclass(frozen=True)
class RunReport:
    run_id: str
    components: List[ComponentRun]
    blessed: Optional[bool]  # None when the Evaluator did not run
    pushed_version: Optional[str]  # None when nothing was pushed
    span: Optional[int] = None  # the newest span its examples came from (None without {SPAN} in the input path)
    evaluation_uri: Optional[str] = None  # the Evaluator's ModelEvaluation directory (tfma.load_metrics reads it)
    outputs: Dict[str, str] = dataclasses.field(default_factory=dict)  # "<component>/<output key>" -> URI
    inputs: Dict[str, str] = dataclasses.field(default_factory=dict)  # "<component>/<input key>" -> URI (the first)

    def lines(self) -> List[str]:
        rows = [f"  {c.component_id:<32} {c.state:<9} {c.seconds:7.1f}s" for c in self.components]
        verdict = {None: "not evaluated", True: "BLESSED", False: "NOT blessed (below the thresholds)"}[self.blessed]
        pushed = f"pushed as version {self.pushed_version}" if self.pushed_version else "nothing pushed"
        return [f"run {self.run_id}:"] + rows + [f"  model {verdict}; {pushed}"]


def latest_run(metadata_path: str, pipeline_name: str) -> Optional[RunReport]:
    runs = all_runs(metadata_path, pipeline_name)
    return runs[-1] if runs else None


def all_runs(metadata_path: str, pipeline_name: str) -> List[RunReport]:
    """Every run of the pipeline, oldest first."""
    store = mlmd.MetadataStore(_connection(metadata_path))
    runs = [c for c in store.get_contexts_by_type("pipeline_run") if _in_pipeline(store, c, pipeline_name)]
    return [_report(store, run) for run in sorted(runs, key=lambda c: c.create_time_since_epoch)]


def _report(store, run) -> RunReport:
    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.create_time_since_epoch)
    ids = {e.id: _component_id(store, e) for e in executions}
    components = [ComponentRun(ids[e.id], _STATE.Name(e.last_known_state),
                               (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0)
                  for e in executions]
    events = store.get_events_by_execution_ids(list(ids)) if ids else []
    artifacts = {a.id: a for a in store.get_artifacts_by_id(list({e.artifact_id for e in events}))} if events else {}
    inputs, outputs, produced = {}, {}, []
    for event in events:  # the first artifact of each key (a span window's examples are several)
        where = f"{ids[event.execution_id]}/{event.path.steps[0].key}"
        if event.type == metadata_store_pb2.Event.OUTPUT:
            produced.append(artifacts[event.artifact_id])
            outputs.setdefault(where, artifacts[event.artifact_id].uri)
        elif event.type == metadata_store_pb2.Event.INPUT:
            inputs.setdefault(where, artifacts[event.artifact_id].uri)
    blessings = [a for a in produced if _type_name(store, a) == "ModelBlessing"]
    pushes = [a for a in produced if _type_name(store, a) == "PushedModel"]
    blessed = bool(_custom(blessings[0], "blessed")) if blessings else None
    pushed = pushes[0] if pushes and _custom(pushes[0], "pushed") else None
    spans = [int(_custom(a, "span")) for a in produced if _type_name(store, a) == "Examples" and _custom(a, "span")]
    evaluations = [a.uri for a in produced if _type_name(store, a) == "ModelEvaluation"]
    return RunReport(run.name, components, blessed, str(_custom(pushed, "pushed_version")) if pushed else None,
                     span=max(spans, default=None), evaluation_uri=evaluations[0] if evaluations else None,
                     outputs=outputs, inputs=inputs)


def _connection(metadata_path: str) -> metadata_store_pb2.ConnectionConfig:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def _in_pipeline(store, run_context, pipeline_name: str) -> bool:
    return any(p.name == pipeline_name for p in store.get_parent_contexts_by_context(run_context.id))


def _component_id(store, execution) -> str:
    nodes = [c for c in store.get_contexts_by_execution(execution.id) if c.type == "node"]
    return nodes[0].name.split(".", 1)[-1] if nodes else str(execution.id)


def _type_name(store, artifact) -> str:
    return artifact.type or store.get_artifact_types_by_id([artifact.type_id])[0].name


def _custom(artifact, key: str):
    value = artifact.custom_properties.get(key)
    if value is None:
        return None
    return getattr(value, value.WhichOneof("value"))
