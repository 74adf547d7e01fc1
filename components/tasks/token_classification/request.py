"""What a served token_classification model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.warmup import TaskInput

REQUEST = TaskInput("Yesterday Zoë flew to São Paulo with José Ruiz.")
