"""The logger for our own progress lines; pipeline/console.py shows it on stderr whatever absl's verbosity is."""
import logging

progress = logging.getLogger("tfx_text")
