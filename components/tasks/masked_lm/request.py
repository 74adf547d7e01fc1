"""What a served masked_lm model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.config import Config
from components.core.warmup import TaskInput


def request(config: Config) -> TaskInput:
    """The same whatever the config."""
    return TaskInput("It is a truth universally acknowledged")
