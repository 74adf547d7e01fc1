"""What a pipeline's components wrote, found through ML Metadata (for end-to-end tests)."""


def output_uri(metadata_path, pipeline_name, component, key):
    """Where a component of a pipeline wrote an output in its latest execution (both pipelines share one root)."""
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = metadata_path
    store = mlmd.MetadataStore(connection)
    node = store.get_context_by_type_and_name("node", f"{pipeline_name}.{component}")
    execution = max(store.get_executions_by_context(node.id), key=lambda e: e.id)
    events = [e for e in store.get_events_by_execution_ids([execution.id])
              if e.type == metadata_store_pb2.Event.OUTPUT and e.path.steps[0].key == key]
    return store.get_artifacts_by_id([events[0].artifact_id])[0].uri
