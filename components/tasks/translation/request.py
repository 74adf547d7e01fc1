"""What a served translation model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.warmup import TaskInput

REQUEST = TaskInput("Could not open file %s: %s", name="source")
