"""The `data` config section carried to a custom ExampleGen executor through FileBasedExampleGen's custom_config.

custom_config is part of ExampleGen's execution properties, so MLMD records it and a change re-reads the data.
"""
from typing import Any, Mapping, Union

from google.protobuf import json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs


def pack(data: Mapping[str, Any]) -> example_gen_pb2.CustomConfig:
    struct = struct_pb2.Struct()
    struct.update(dict(data))
    custom = example_gen_pb2.CustomConfig()
    custom.custom_config.Pack(struct)
    return custom


def unpack(exec_properties: Mapping[str, Any]) -> dict:
    """The data section an executor was given (TFX passes proto execution properties as JSON text)."""
    custom: Union[str, example_gen_pb2.CustomConfig, None] = exec_properties.get(
        standard_component_specs.CUSTOM_CONFIG_KEY)
    if isinstance(custom, str):
        custom = json_format.Parse(custom, example_gen_pb2.CustomConfig()) if custom else None
    if custom is None or not custom.HasField("custom_config"):
        return {}
    struct = struct_pb2.Struct()
    custom.custom_config.Unpack(struct)
    return json_format.MessageToDict(struct)
