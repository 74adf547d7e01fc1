"""Which models to serve, from where, with which version policy and labels: TF Serving's --model_config_file.

The file is a ModelServerConfig text proto holding a model_config_list, parsed with the official message, so the
file that configures production TF Serving configures this server unchanged:

    model_config_list {
      config {
        name: "sentiment"  base_path: "/models/sentiment"  model_platform: "tensorflow"
        model_version_policy { specific { versions: 3 versions: 4 } }
        version_labels { key: "stable" value: 3 }
        version_labels { key: "canary" value: 4 }
      }
    }
"""
import dataclasses
import os
import types
from typing import List, Mapping

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.model_registry import VersionPolicy

_PLATFORM = "tensorflow"


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    name: str
    base_path: str
    policy: VersionPolicy = VersionPolicy()
    labels: Mapping[str, int] = types.MappingProxyType({})


def read_model_config_file(path: str) -> List[ModelConfig]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return parse_model_config(text)
    except (text_format.ParseError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from None


def parse_model_config(text: str) -> List[ModelConfig]:
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError("expected a model_config_list (custom_model_config is not supported)")
    models = [_model(entry) for entry in config.model_config_list.config]
    names = [model.name for model in models]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"model names must be unique; repeated: {', '.join(duplicates)}")
    return models


def _model(entry: model_server_config_pb2.ModelConfig) -> ModelConfig:
    if not entry.name or not entry.base_path:
        raise ValueError(f"every config needs a name and a base_path; got name={entry.name!r} "
                         f"base_path={entry.base_path!r}")
    if entry.model_platform not in ("", _PLATFORM):
        raise ValueError(f"model {entry.name}: model_platform {entry.model_platform!r} is not supported, only "
                         f"{_PLATFORM!r}")
    return ModelConfig(entry.name, os.path.abspath(entry.base_path), _policy(entry), dict(entry.version_labels))


def _policy(entry: model_server_config_pb2.ModelConfig) -> VersionPolicy:
    """TF Serving's default, with no model_version_policy, is the latest version only."""
    policy = entry.model_version_policy
    choice = policy.WhichOneof("policy_choice")
    if choice == "specific":
        if not policy.specific.versions:
            raise ValueError(f"model {entry.name}: a specific version policy needs at least one version")
        return VersionPolicy(latest=None, specific=frozenset(policy.specific.versions))
    if choice == "all":
        return VersionPolicy(latest=None)
    if choice == "latest" and policy.latest.num_versions:
        return VersionPolicy(latest=policy.latest.num_versions)
    return VersionPolicy(latest=1)
