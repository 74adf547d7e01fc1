"""Every configured model's versions, and which loaded version a request's name, version or label means.

Errors are TF Serving's: an unknown model or version is NOT_FOUND, an unknown label INVALID_ARGUMENT
("Unrecognized servable version label").
"""
import contextlib
import dataclasses
from typing import Iterator, List, Optional, Sequence

import grpc
from tensorflow_serving.apis import model_pb2

from serving.errors import ServingError
from serving.loaded_model import LoadedModel
from serving.model_config import ModelConfig
from serving.model_registry import ModelRegistry, ServableNotFoundError
from serving.version_status import VersionStatus


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """The servable a request names: a model and a version, a version label, or neither (the newest)."""
    name: str
    version: Optional[int] = None
    label: Optional[str] = None

    @classmethod
    def from_spec(cls, spec: model_pb2.ModelSpec) -> "ModelRef":
        choice = spec.WhichOneof("version_choice")
        return cls(spec.name, spec.version.value if choice == "version" else None,
                   spec.version_label if choice == "version_label" else None)


class Servables:
    def __init__(self, configs: Sequence[ModelConfig], poll_seconds: float = 2.0):
        self._registries = {c.name: ModelRegistry(c.base_path, c.name, poll_seconds, c.policy) for c in configs}
        self._labels = {c.name: dict(c.labels) for c in configs}

    @property
    def names(self) -> List[str]:
        return list(self._registries)

    def __contains__(self, name: str) -> bool:
        return name in self._registries

    def base_path(self, name: str) -> str:
        return self._registries[name].base_path

    def start(self) -> None:
        for registry in self._registries.values():
            registry.start()

    def stop(self) -> None:
        for registry in self._registries.values():
            registry.stop()

    @contextlib.contextmanager
    def acquire(self, ref: ModelRef) -> Iterator[LoadedModel]:
        """Leases the version `ref` names for one request."""
        version = self._version(ref)
        wanted = f"Specific({ref.name}, {version})" if version is not None else f"Latest({ref.name})"
        if ref.name not in self._registries:
            raise ServingError(f"Servable not found for request: {wanted}", grpc.StatusCode.NOT_FOUND)
        try:
            with self._registries[ref.name].acquire(version) as model:
                yield model
        except ServableNotFoundError:
            raise ServingError(f"Servable not found for request: {wanted}", grpc.StatusCode.NOT_FOUND) from None

    def statuses(self, ref: ModelRef) -> List[VersionStatus]:
        """The named version's status, or every version's when `ref` names none."""
        version = self._version(ref)
        registry = self._registries.get(ref.name)
        statuses = registry.statuses() if registry else []
        if version is not None:
            statuses = [s for s in statuses if s.version == version]
            if not statuses:
                raise ServingError(f"Could not find version {version} of model {ref.name}", grpc.StatusCode.NOT_FOUND)
        if not statuses:
            raise ServingError(f"Could not find any versions of model {ref.name}", grpc.StatusCode.NOT_FOUND)
        return statuses

    def _version(self, ref: ModelRef) -> Optional[int]:
        if ref.label is None:
            return ref.version
        version = self._labels.get(ref.name, {}).get(ref.label)
        if version is None:
            raise ServingError(f"Unrecognized servable version label: {ref.label}")
        return version
