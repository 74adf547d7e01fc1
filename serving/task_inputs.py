"""What each task kind's served `serving_default` signature takes, so `serve` prints a request that works and
`predict --text` fills the rest: the raw-text input's name, the other inputs (sent with every text), an example."""
import dataclasses
import json
from typing import Mapping

import numpy as np


@dataclasses.dataclass(frozen=True)
class TaskInput:
    example: str
    name: str = "text"
    settings: Mapping[str, np.generic] = dataclasses.field(default_factory=dict)  # typed as the signature takes them

    def instance(self, text: str) -> dict:
        """One REST row for `text`."""
        return {self.name: text, **{key: json_value(value) for key, value in self.settings.items()}}

    def curl_body(self) -> str:
        """The example as a REST body: a bare string when the signature takes the text alone."""
        row = self.instance(self.example) if self.settings else self.example
        return json.dumps({"instances": [row]}, ensure_ascii=False)


def json_value(value: np.generic):
    """A typed setting as JSON writes it: float32 0.8 as 0.8, not 0.800000011920929."""
    return value.item() if np.issubdtype(value.dtype, np.integer) else float(str(value))


# Sampling as a user would start: temperature 0.8 over the 40 likeliest pieces, seeded so a rerun answers alike.
GENERATION = {"max_new_tokens": np.int32(40), "temperature": np.float32(0.8), "top_k": np.int32(40),
              "top_p": np.float32(1.0), "seed": np.int64(1)}

TASK_INPUTS = {
    "classification": TaskInput("a gripping, beautifully acted film"),
    "token_classification": TaskInput("Yesterday Zoë flew to São Paulo with José Ruiz."),
    "masked_lm": TaskInput("It is a truth universally acknowledged"),
    "causal_lm": TaskInput("ROMEO:", name="prompt", settings=GENERATION),
}
