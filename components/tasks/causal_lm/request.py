"""What a served causal_lm model's serving_default takes, with an example (light: `serve` imports it)."""
import numpy as np

from components.core.config import Config
from components.core.warmup import TaskInput

# Sampling as a user would start: temperature 0.8 over the 40 likeliest pieces, seeded so a rerun answers alike.
GENERATION = {"max_new_tokens": np.int32(40), "temperature": np.float32(0.8), "top_k": np.int32(40),
              "top_p": np.float32(1.0), "seed": np.int64(1)}


def request(config: Config) -> TaskInput:
    """The same whatever the config."""
    return TaskInput("ROMEO:", name="prompt", settings=GENERATION)
