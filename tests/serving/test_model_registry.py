"""The version policy, driven one poll at a time (no background thread) over real SavedModels."""
import os
import shutil

import numpy as np
import pytest

from serving import model_registry
from serving.model_registry import ModelRegistry, ServableNotFoundError, State, VersionPolicy
from tests.serving.conftest import MODEL


def _registry(serving_root, **policy) -> ModelRegistry:
    return ModelRegistry(os.path.join(serving_root, MODEL), MODEL, policy=VersionPolicy(**policy))


def _length(registry: ModelRegistry, version=None) -> int:
    with registry.acquire(version) as model:
        return int(model.run("serving_default", {"text": np.array([b"abc"], dtype=object)})["length"][0])


def _states(registry: ModelRegistry) -> dict:
    return {s.version: s.state for s in registry.statuses()}


def _corrupt(serving_root, version: int) -> None:
    path = os.path.join(serving_root, MODEL, str(version))
    os.makedirs(path)
    open(os.path.join(path, "saved_model.pb"), "wb").close()


def test_serves_the_two_newest_versions_and_the_newest_by_default(tmp_path, push):
    for version in (1, 2, 3):
        push(tmp_path, version)
    registry = _registry(tmp_path, latest=2)
    registry.poll()
    assert _states(registry) == {3: State.AVAILABLE, 2: State.AVAILABLE}
    assert (_length(registry), _length(registry, 3), _length(registry, 2)) == (9, 9, 6)
    with pytest.raises(ServableNotFoundError):
        _length(registry, 1)


def test_a_new_version_is_loaded_before_the_oldest_is_retired(tmp_path, push):
    push(tmp_path, 1)
    push(tmp_path, 2)
    registry = _registry(tmp_path, latest=2)
    registry.poll()
    push(tmp_path, 3)
    registry.poll()
    assert _states(registry) == {3: State.AVAILABLE, 2: State.AVAILABLE, 1: State.END}
    assert registry.statuses()[-1].error_message == ""
    assert _length(registry) == 9


def test_a_corrupt_version_is_recorded_and_the_last_good_one_serves(tmp_path, push, monkeypatch):
    push(tmp_path, 1)
    _corrupt(tmp_path, 2)
    registry = _registry(tmp_path)
    registry.poll()
    failed = registry.statuses()[0]
    assert (failed.version, failed.state) == (2, State.END)
    assert failed.error_code != 0 and failed.error_message
    assert _length(registry) == 3

    loads, load = [], model_registry.LoadedModel
    monkeypatch.setattr(model_registry, "LoadedModel", lambda name, v, path: loads.append(v) or load(name, v, path))
    registry.poll()
    assert loads == [], "unchanged files are not loaded again"

    shutil.rmtree(os.path.join(tmp_path, MODEL, "2"))
    push(tmp_path, 2)  # the Pusher finishes the copy: the files change, so the version is retried
    registry.poll()
    assert loads == [2]
    assert _states(registry) == {2: State.AVAILABLE, 1: State.END}
    assert _length(registry) == 6


def test_a_missing_model_directory_serves_nothing_until_a_version_appears(tmp_path, push):
    registry = _registry(tmp_path)
    registry.poll()
    assert registry.statuses() == []
    with pytest.raises(ServableNotFoundError):
        _length(registry)
    push(tmp_path, 1)
    registry.poll()
    assert _length(registry) == 3


def test_an_unloaded_version_finishes_its_in_flight_requests(tmp_path, push):
    push(tmp_path, 1)
    registry = _registry(tmp_path)
    registry.poll()
    with registry.acquire() as old:
        push(tmp_path, 2)
        registry.poll()
        assert _states(registry) == {2: State.AVAILABLE, 1: State.UNLOADING}
        assert _length(registry) == 6  # new requests already get version 2
        assert old.run("serving_default", {"text": np.array([b"abc"], dtype=object)})["length"].tolist() == [3]
    assert _states(registry) == {2: State.AVAILABLE, 1: State.END}


def test_a_removed_version_is_unloaded_but_never_the_last_one(tmp_path, push):
    push(tmp_path, 1)
    push(tmp_path, 2)
    registry = _registry(tmp_path, latest=2)
    registry.poll()
    shutil.rmtree(os.path.join(tmp_path, MODEL, "2"))
    registry.poll()
    assert _states(registry) == {2: State.END, 1: State.AVAILABLE}
    shutil.rmtree(os.path.join(tmp_path, MODEL, "1"))
    registry.poll()
    assert _states(registry)[1] is State.AVAILABLE


def test_signatures_exclude_the_init_op_that_metadata_lists(tmp_path, push):
    push(tmp_path, 1)
    registry = _registry(tmp_path)
    registry.poll()
    with registry.acquire() as model:
        assert sorted(model.signatures) == ["classify", "regress", "serving_default", "weighted"]
        assert "__saved_model_init_op" in model.signature_defs


def test_specific_versions_are_served_and_others_ignored(tmp_path, push):
    for version in (1, 2, 3):
        push(tmp_path, version)
    registry = _registry(tmp_path, latest=None, specific=frozenset({1, 2}))
    registry.poll()
    assert _states(registry) == {2: State.AVAILABLE, 1: State.AVAILABLE}
    assert (_length(registry), _length(registry, 1)) == (6, 3)


def test_the_all_policy_serves_every_version(tmp_path, push):
    for version in (1, 2, 3):
        push(tmp_path, version)
    registry = _registry(tmp_path, latest=None)
    registry.poll()
    assert _states(registry) == {3: State.AVAILABLE, 2: State.AVAILABLE, 1: State.AVAILABLE}


def test_a_policy_is_latest_or_specific():
    with pytest.raises(ValueError, match="not both"):
        VersionPolicy(latest=2, specific=frozenset({1}))
    with pytest.raises(ValueError, match="at least 1"):
        VersionPolicy(latest=0)
