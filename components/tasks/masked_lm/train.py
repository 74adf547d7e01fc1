"""Pretrains a BERT backbone with masked-LM (and optionally NSP) on Transform's per-document piece ids."""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn.backbone import build_backbone
from components.tasks.masked_lm import masking
from components.tasks.masked_lm import model as masked_lm
from components.tasks.masked_lm.data import MaskedLMData
from components.tasks.masked_lm.evaluation import HEADLINE
from components.text.tokenization.tokenizer import read_vocabulary
from components.training import loop


def masker_for(config: Config, tft_output: tft.TFTransformOutput) -> masking.Masker:
    """The Masker of this run's vocabulary and settings; the export uses the same one, seeded, to score."""
    pretraining = config.pretraining
    return masking.Masker(read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB)),
                          pretraining.mask_rate, pretraining.max_predictions_per_seq, pretraining.whole_word_masking)


def train(config: Config, tft_output: tft.TFTransformOutput, train_files: Sequence[str], eval_files: Sequence[str],
          log_dir: str, base_model_dir: Optional[str] = None) -> keras.Model:
    """Pretraining starts from scratch (`base_model_dir` is not taken). Returns the pretrainer ({token_ids,
    padding_mask, segment_ids, mask_positions} -> {mlm, nsp} logits)."""
    loop.prepare(config)
    batch, length, nsp = config.training.batch_size, config.tokenizer.max_seq_length, config.pretraining.nsp
    vocab_size = tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB)
    data = MaskedLMData(tft_output, masker_for(config, tft_output), length, nsp, config.training.seed)
    return loop.fit(config, loop.Fit(
        build_model=lambda: masked_lm.build_pretrainer(build_backbone(config.model, vocab_size, length),
                                                       config.pretraining.max_predictions_per_seq, nsp),
        compile_kwargs=lambda: masked_lm.compile_kwargs(nsp),
        train=data.dataset(train_files, batch, training=True),
        evaluation=data.dataset(eval_files, batch, training=False),
        train_examples=data.count(train_files),
        headline=HEADLINE,
        description=f"a {config.model.preset} masked LM{' + NSP' if nsp else ''}: vocab {vocab_size}",
    ), log_dir)
