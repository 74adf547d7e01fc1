"""What a person sees while the pipeline runs: our progress lines and each component's start/finish, not the
hundreds of library warnings TFX, Beam and Google clients print on every run."""
import logging
import re
import sys
import warnings

from absl import logging as absl_logging

from components.core.log import progress as PROGRESS

_COMPONENT_LINE = re.compile(r"^Component .* is (running|finished)\.$|^A cached execution \d+ is used\.$")
_KNOWN_NOISE = ("property_predicate is not supported", "payload_format custom property", "Tables initialized inside",
                "python-snappy", "Skipping registering GPU", "could not be found in the model's function",
                "Found untraced functions", "Could not find cuda drivers",
                "tf_record_iterator (from tensorflow")  # TFMA's and TensorBoard's readers (report, status)


class _LibraryFilter(logging.Filter):
    """Keeps TFX's component start/finish lines, real warnings and errors; drops known noise."""

    def filter(self, record):
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return True
        if record.levelno == logging.INFO:
            return bool(_COMPONENT_LINE.match(message))
        return not any(noise in message for noise in _KNOWN_NOISE)


def setup() -> None:
    """Idempotent: call once at program start (CLI, benchmarks)."""
    for stream in (sys.stdout, sys.stderr):
        # UTF-8 whatever the locale: `predict` prints JSON lines (UTF-8 by RFC 8259) and the input summary prints
        # the data's own labels, so Chinese comes out as written instead of crashing a Latin-1 or ASCII console;
        # backslashreplace shows a lone surrogate (undecodable bytes in argv) instead of raising.
        reconfigure = getattr(stream, "reconfigure", None)  # absent where a host replaced the stream (notebooks)
        if reconfigure:
            reconfigure(encoding="utf-8", errors="backslashreplace")
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category)
    if not PROGRESS.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        PROGRESS.addHandler(handler)
        PROGRESS.setLevel(logging.INFO)
        PROGRESS.propagate = False
    logging.getLogger("absl").setLevel(logging.INFO)
    # Beam and TFX log through the root logger into absl's handler: filter there, where every record passes.
    # TensorFlow's logger may get a handler of its own when TensorFlow is imported later: filter the logger itself.
    for where in {absl_logging.get_absl_handler(), *logging.getLogger().handlers, logging.getLogger("tensorflow")}:
        if not any(isinstance(f, _LibraryFilter) for f in where.filters):
            where.addFilter(_LibraryFilter())
