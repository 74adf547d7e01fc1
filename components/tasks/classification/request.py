"""What a served classification model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.warmup import TaskInput

REQUEST = TaskInput("a gripping, beautifully acted film")
