"""Trains the causal LM on Transform's per-document token ids: the task logic behind the Trainer's run_fn."""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn.metrics.lm_eval_config import PERPLEXITY
from components.nn.metrics.perplexity import Perplexity
from components.tasks.causal_lm import data as lm_dataset
from components.tasks.causal_lm import model as causal_lm
from components.training import loop


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> keras.Model:
    """Trains from scratch (`base_model_dir` is not taken). Windows of max_seq_length tokens predict their next tokens;
    perplexity on the eval split is logged."""
    loop.prepare(config)
    batch, seed, context = config.training.batch_size, config.training.seed, config.tokenizer.max_seq_length
    vocab_size = tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB)
    return loop.fit(config, loop.Fit(
        build_model=lambda: causal_lm.build_causal_lm(config.model, vocab_size, context),
        compile_kwargs=lambda: dict(loss=causal_lm.loss(), weighted_metrics=[Perplexity()]),
        train=lm_dataset.make_lm_dataset(train_files, tft_output, batch, context, training=True, seed=seed),
        evaluation=lm_dataset.make_lm_dataset(eval_files, tft_output, batch, context, training=False),
        train_examples=lm_dataset.count_windows(train_files, tft_output, context),
        headline=PERPLEXITY,
        description=f"a {config.model.preset} causal LM: vocab {vocab_size}, windows of {context} tokens",
    ), log_dir)
