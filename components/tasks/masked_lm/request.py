"""What a served masked_lm model's serving_default takes, with an example (light: `serve` imports it)."""
from components.core.warmup import TaskInput

REQUEST = TaskInput("It is a truth universally acknowledged")
