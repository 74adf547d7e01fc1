"""A model version's state as TF Serving reports it: what the registry records and both APIs print."""
import dataclasses
import enum


class State(str, enum.Enum):
    """A version's lifecycle, named as TF Serving's ModelVersionStatus.State."""
    START = "START"
    LOADING = "LOADING"
    AVAILABLE = "AVAILABLE"
    UNLOADING = "UNLOADING"
    END = "END"


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    version: int
    state: State
    error_code: int = 0  # a tensorflow.error.Code; 0 is OK
    error_message: str = ""
