"""What a served translation model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.config import Config
from components.core.warmup import TaskInput


def request(config: Config) -> TaskInput:
    """The same whatever the config: a raw source sentence (its placeholders come back unchanged)."""
    return TaskInput("Could not open file %s: %s", name="source")
