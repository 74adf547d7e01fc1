"""Our side of bench/trainer_speed.py: the project's masked-LM pretrainer (keras-hub BERT on TF) trained by the shared
loop's own pieces (optimizer, train step with clipping and accumulation, precision policy, XLA, steps_per_execution)
on one fixed batch, so only the training step is timed: from the first step's start to the last step's end inside one
`fit` call, as the HF peer times its loop. Each `fit` call also sits idle for about 2 s outside its steps in 4 calls
out of 10 here (iterator set-up and tear-down: the process used 0% CPU for those seconds), which a real run pays once
per epoch, not once per timed window."""
import dataclasses
import time

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from components.core import features
from components.core.config import MODEL_PRESETS, TrainingConfig
from components.tasks.masked_lm.masking import MASK_POSITIONS
from components.tasks.masked_lm.model import MLM, build_pretrainer, compile_kwargs
from components.training import train_step
from components.training.optimizer import build_optimizer
from components.training.strategy import set_precision


@dataclasses.dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    ff: int
    vocab: int = 8192
    seq: int = 128
    batch: int = 32
    predictions: int = 20  # masked positions per sequence: 15% of 128

    @classmethod
    def preset(cls, name: str, **kwargs) -> "Shape":
        p = MODEL_PRESETS[name]
        return cls(p["num_layers"], p["hidden_dim"], p["num_heads"], p["intermediate_dim"], **kwargs)

    def train_flops_per_token(self, head_fraction: float) -> float:
        """6 x matmul weights per token (forward + backward), the attention scores and mixing (12 x layers x seq x
        hidden), and the MLM head (transform + tied decoder) on `head_fraction` of the tokens."""
        encoder = self.layers * (4 * self.hidden ** 2 + 2 * self.hidden * self.ff)
        attention = 12 * self.layers * self.seq * self.hidden
        head = 6 * (self.hidden ** 2 + self.hidden * self.vocab) * head_fraction
        return 6 * encoder + attention + head


@dataclasses.dataclass(frozen=True)
class Switches:
    jit_compile: bool = False
    steps_per_execution: int = 1
    precision: str = "float32"
    accumulation: int = 1

    def describe(self) -> str:
        return (f"xla={'on' if self.jit_compile else 'off'} spe={self.steps_per_execution} {self.precision} "
                f"accum={self.accumulation}")


class StepTimer(keras.callbacks.Callback):
    """Wall and process CPU seconds from the first step's start to the last step's end of one `fit` call."""

    def on_train_begin(self, logs=None):
        self.start = None

    def on_train_batch_begin(self, batch, logs=None):
        if self.start is None:
            self.start = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, batch, logs=None):
        self.end = (time.perf_counter(), time.process_time())

    @property
    def seconds(self) -> float:
        return self.end[0] - self.start[0]

    @property
    def cores(self) -> float:
        return (self.end[1] - self.start[1]) / self.seconds


class Trainer:
    """A compiled model and its input; `run(steps)` times that many training steps."""

    def __init__(self, shape: Shape, switches: Switches):
        self.shape, self.switches = shape, switches
        k = switches.accumulation
        training = TrainingConfig(batch_size=shape.batch // k, learning_rate=1e-4, mixed_precision=switches.precision,
                                  jit_compile=switches.jit_compile, accumulation_steps=k,
                                  steps_per_execution=switches.steps_per_execution)
        set_precision(training)
        keras.utils.set_random_seed(0)
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=shape.vocab, num_layers=shape.layers, num_heads=shape.heads, hidden_dim=shape.hidden,
            intermediate_dim=shape.ff, max_sequence_length=shape.seq, dropout=0.1)
        self.model = build_pretrainer(backbone, shape.predictions, nsp=False)
        self.model.compile(optimizer=build_optimizer(training, 100_000), jit_compile=switches.jit_compile,
                           steps_per_execution=switches.steps_per_execution, **compile_kwargs(nsp=False))
        train_step.install(self.model, k, training.clipnorm)
        micro_batch = tf.data.Dataset.from_tensors(_batch(shape, shape.batch // k)).repeat()
        self.dataset = train_step.micro_batches(micro_batch, k)
        keras.mixed_precision.set_global_policy("float32")  # the model keeps its own; the next one chooses again

    def run(self, steps: int) -> tuple:
        """(seconds, cores used) of `steps` optimizer steps (a multiple of steps_per_execution is timed exactly)."""
        timer = StepTimer()
        self.model.fit(self.dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[timer])
        return timer.seconds, timer.cores

    @property
    def tokens_per_step(self) -> int:
        return self.shape.batch * self.shape.seq

    def final_loss(self) -> float:
        return float(self.model.evaluate(self.dataset, steps=1, verbose=0, return_dict=True)["loss"])


def _batch(shape: Shape, batch: int):
    rng = np.random.default_rng(0)
    ids = rng.integers(5, shape.vocab, (batch, shape.seq)).astype("int32")
    positions = np.sort(np.stack([rng.permutation(shape.seq - 1)[:shape.predictions] + 1 for _ in range(batch)]), 1)
    x = {features.TOKEN_IDS: ids, features.PADDING_MASK: np.ones_like(ids), features.SEGMENT_IDS: np.zeros_like(ids),
         MASK_POSITIONS: positions.astype("int32")}
    y = {MLM: rng.integers(5, shape.vocab, (batch, shape.predictions)).astype("int32")}
    return x, y, {MLM: np.ones((batch, shape.predictions), "float32")}
