"""What a served classification model's serving_default takes, with an example (light: `serve` imports it): a text,
or a sentence pair when the model was trained with data.text_pair_column."""
from components.core.config import Config
from components.core.warmup import TaskInput


def request(config: Config) -> TaskInput:
    if config.data.text_pair_column:
        return TaskInput("A man is playing a guitar on stage.", pair_example="Someone is making music.")
    return TaskInput("a gripping, beautifully acted film")
