"""What a served token_classification model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.config import Config
from components.core.warmup import TaskInput


def request(config: Config) -> TaskInput:
    """The same whatever the config."""
    return TaskInput("Yesterday Zoë flew to São Paulo with José Ruiz.")
