"""Trains the causal LM on Transform's per-document token ids: the task logic behind the Trainer's run_fn."""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn import presets, warm_start
from components.nn.metrics.lm_eval_config import PERPLEXITY
from components.nn.metrics.perplexity import Perplexity
from components.tasks.causal_lm import data as lm_dataset
from components.tasks.causal_lm import model as causal_lm
from components.text.tokenization.tokenizer import read_vocabulary
from components.training import loop


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> keras.Model:
    """From scratch in config.model's shape, or continued from the blessed model of another causal-LM pipeline
    (`base_model_dir`, as TFX resolved it: presets.resolve): all its weights and its shape. Windows of
    max_seq_length tokens predict their next tokens; perplexity on the eval split is logged."""
    base_preset = presets.resolve(config.base_model, base_model_dir)
    loop.prepare(config)
    batch, seed, context = config.training.batch_size, config.training.seed, config.tokenizer.max_seq_length
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))

    def build_model():
        backbone = (warm_start.continued(config, vocabulary, base_preset, presets.CAUSAL_LM) if base_preset
                    else causal_lm.new_backbone(config.model, len(vocabulary), context))
        return causal_lm.build_causal_lm(backbone)

    start = f"continued from {base_preset}" if base_preset else f"a {config.model.preset}"
    return loop.fit(config, loop.Fit(
        build_model=build_model,
        compile_kwargs=lambda: dict(loss=causal_lm.loss(), weighted_metrics=[Perplexity()]),
        train=lm_dataset.make_lm_dataset(train_files, tft_output, batch, context, training=True, seed=seed),
        evaluation=lm_dataset.make_lm_dataset(eval_files, tft_output, batch, context, training=False),
        train_examples=lm_dataset.count_windows(train_files, tft_output, context),
        headline=PERPLEXITY,
        description=f"a causal LM ({start}): vocab {len(vocabulary)}, windows of {context} tokens",
    ), log_dir)
