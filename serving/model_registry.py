"""Loads the versions under a model's base path (<base_path>/<version>/, as the Pusher writes them) and swaps them
in while serving.

Version policy (TF Serving's availability-preserving policy over its ServableVersionPolicy):
  * the versions the policy names (the newest N, specific ones, or all) that load are served; a request without a
    version gets the newest AVAILABLE one, a request for another loaded version gets that one;
  * a new version loads and replays its warm-up requests beside the serving ones, and only then are older ones
    unloaded, so there is never a moment without a servable;
  * a version that fails to load or warm up (a copy still in progress, a corrupt file) is recorded as END with its
    error and the serving versions keep serving. It is retried when its files change (the Pusher finishing its
    copy), not in a loop over the same bytes;
  * a version whose directory disappears is unloaded, unless it is the last one serving;
  * the status keeps the versions that ended (unloaded, or failed to load) only up to STATUS_HISTORY of them, so it
    stays bounded however many versions a model goes through.

Threading: one background thread polls and loads; loading runs outside the lock. A request holds a lease on its
version (`acquire`), so a version being unloaded stays UNLOADING until its last in-flight request has finished.
"""
import contextlib
import dataclasses
import os
import threading
from typing import Dict, FrozenSet, Iterator, List, Optional, Tuple

import tensorflow as tf
from absl import logging

from serving import warmup
from serving.errors import ServingError
from serving.loaded_model import SAVED_MODEL_PB, LoadedModel
from serving.version_status import State, VersionStatus

Fingerprint = Tuple[Tuple[str, int, int], ...]
STATUS_HISTORY = 8  # ended versions still listed in the status, newest first


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """TF Serving's ServableVersionPolicy: the newest `latest` versions, or the `specific` ones, or (neither) all."""
    latest: Optional[int] = 1
    specific: FrozenSet[int] = frozenset()

    def __post_init__(self):
        if self.specific and self.latest is not None:
            raise ValueError("a version policy is either latest N or specific versions, not both")
        if self.latest is not None and self.latest < 1:
            raise ValueError(f"latest needs at least 1 version, got {self.latest}")

    def allows(self, version: int) -> bool:
        return not self.specific or version in self.specific


class ServableNotFoundError(LookupError):
    """No AVAILABLE version matches the request; `version` is None for 'the latest'."""

    def __init__(self, version: Optional[int]):
        super().__init__(version)
        self.version = version


@dataclasses.dataclass
class _Version:
    version: int
    state: State = State.START
    error_code: int = 0
    error_message: str = ""
    model: Optional[LoadedModel] = None
    leases: int = 0
    failed_fingerprint: Optional[Fingerprint] = None


class ModelRegistry:
    """The versions of one model: what is loaded, what each version's state is, and which one serves a request."""

    def __init__(self, base_path: str, model_name: str, poll_seconds: float = 2.0,
                 policy: VersionPolicy = VersionPolicy()):
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be > 0")
        self.model_name = model_name
        self.base_path = base_path
        self._poll_seconds = poll_seconds
        self._policy = policy
        self._lock = threading.Lock()  # guards _versions and every _Version's fields
        self._poll_lock = threading.Lock()  # one poll at a time
        self._versions: Dict[int, _Version] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Loads what is on disk now (so the server answers as soon as it listens), then polls in the background."""
        self.poll()
        self._thread = threading.Thread(target=self._poll_forever, name=f"poll-{self.model_name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def poll(self) -> None:
        """One pass of the version policy: load what is new, unload what is no longer kept."""
        with self._poll_lock:
            on_disk = _scan(self.base_path)
            with self._lock:
                known = {v: (e.state, e.failed_fingerprint) for v, e in self._versions.items()}
            kept: List[int] = []
            for version in sorted(filter(self._policy.allows, on_disk), reverse=True):
                if len(kept) == self._policy.latest:
                    break
                state, failed_fingerprint = known.get(version, (None, None))
                if state is State.AVAILABLE:
                    kept.append(version)
                elif failed_fingerprint == on_disk[version]:
                    continue  # it failed on these very bytes; wait for them to change
                elif self._load(version, on_disk[version]):
                    kept.append(version)
            with self._lock:
                retired = [e for v, e in self._versions.items() if e.state is State.AVAILABLE and v not in kept]
            for entry in retired if kept else []:
                self._unload(entry)
            self._forget_ended()

    @contextlib.contextmanager
    def acquire(self, version: Optional[int] = None) -> Iterator[LoadedModel]:
        """Leases a version (the newest when None) for one request; raises ServableNotFoundError."""
        with self._lock:
            entry = self._find(version)
            entry.leases += 1
            model = entry.model
        try:
            yield model
        finally:
            with self._lock:
                entry.leases -= 1
                if entry.leases == 0 and entry.state is State.UNLOADING:
                    self._end(entry)

    def statuses(self) -> List[VersionStatus]:
        """Every version seen since start, newest first."""
        with self._lock:
            return [VersionStatus(v, e.state, e.error_code, e.error_message)
                    for v, e in sorted(self._versions.items(), reverse=True)]

    def _forget_ended(self) -> None:
        """Forgets ended versions beyond the newest STATUS_HISTORY, but only those older than the newest available
        one: a newer version that failed must stay remembered, or every poll would load it again."""
        with self._lock:
            available = [v for v, e in self._versions.items() if e.state is State.AVAILABLE]
            ended = sorted((v for v, e in self._versions.items() if e.state is State.END), reverse=True)
            for version in ended[STATUS_HISTORY:]:
                if available and version < max(available):
                    del self._versions[version]

    def _poll_forever(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            try:
                self.poll()
            except Exception:  # a failed poll must never stop serving; the next one retries
                logging.exception("Polling %s failed", self.base_path)

    def _find(self, version: Optional[int]) -> _Version:
        if version is None:
            available = [v for v, e in self._versions.items() if e.state is State.AVAILABLE]
            if available:
                return self._versions[max(available)]
        elif version in self._versions and self._versions[version].state is State.AVAILABLE:
            return self._versions[version]
        raise ServableNotFoundError(version)

    def _load(self, version: int, fingerprint: Fingerprint) -> bool:
        entry = _Version(version, state=State.LOADING)
        with self._lock:
            self._versions[version] = entry
        path = os.path.join(self.base_path, str(version))
        logging.info("Loading %s version %d from %s", self.model_name, version, path)
        try:
            model = LoadedModel(self.model_name, version, path)
            replayed = warmup.warm_up(model)
        except Exception as e:  # whatever is wrong with the files, the serving versions stay
            logging.warning("Failed to load %s version %d (kept serving the others): %s", self.model_name, version, e)
            with self._lock:  # the status goes to clients: the model's name stands for its directory
                entry.state, entry.failed_fingerprint = State.END, fingerprint
                entry.error_code, entry.error_message = _error_code(e), str(e).replace(self.base_path, self.model_name)
            return False
        with self._lock:
            entry.model, entry.state = model, State.AVAILABLE
        logging.info("Loaded %s version %d (signatures %s, %d warm-up requests)", self.model_name, version,
                     sorted(model.signatures), replayed)
        return True

    def _unload(self, entry: _Version) -> None:
        logging.info("Unloading %s version %d", self.model_name, entry.version)
        with self._lock:
            entry.state = State.UNLOADING
            if entry.leases == 0:
                self._end(entry)

    def _end(self, entry: _Version) -> None:
        """Called under the lock once the last request on an unloading version is done."""
        entry.state, entry.model = State.END, None
        logging.info("Unloaded %s version %d", self.model_name, entry.version)


def _error_code(error: Exception) -> int:
    if isinstance(error, tf.errors.OpError):
        return error.error_code
    if isinstance(error, ServingError):
        return error.code.value[0]
    return tf.errors.UNKNOWN


def _scan(base: str) -> Dict[int, Fingerprint]:
    """Version directories (integer names holding a saved_model.pb), each with a fingerprint of its files."""
    if not os.path.isdir(base):
        return {}
    found = {}
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name.isascii() and name.isdigit() and os.path.isfile(os.path.join(path, SAVED_MODEL_PB)):
            try:
                found[int(name)] = _fingerprint(path)
            except OSError:  # removed or rewritten while we looked; the next poll sees it settled
                continue
    return found


def _fingerprint(path: str) -> Fingerprint:
    files = []
    for directory, _, names in os.walk(path):
        for name in names:
            full = os.path.join(directory, name)
            stat = os.stat(full)
            files.append((os.path.relpath(full, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(files))
