"""Pretrains a BERT backbone with masked-LM (and optionally NSP) on Transform's per-document piece ids."""
from typing import Optional, Sequence

import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.nn import presets, warm_start
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
    """Pretraining from scratch in config.model's shape, or continued from a base model (`base_model_dir`, the one
    TFX resolved, or base_model.preset: presets.resolve): its backbone, shape and weights. The MLM head starts fresh
    either way: a preset carries the backbone only, and the head's own weights (one dense layer, a layer norm and
    a bias over the tied token embedding) are few and relearn on top of the trained encoder. Returns the pretrainer
    ({token_ids, padding_mask, segment_ids, mask_positions} -> {mlm, nsp} logits)."""
    base_preset = presets.resolve(config.base_model, base_model_dir)
    loop.prepare(config)
    batch, length, nsp = config.training.batch_size, config.tokenizer.max_seq_length, config.pretraining.nsp
    vocabulary = read_vocabulary(tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB))
    data = MaskedLMData(tft_output, masker_for(config, tft_output), length, nsp, config.training.seed)

    def build_model():
        backbone = (warm_start.continued(config, vocabulary, base_preset, presets.MASKED_LM) if base_preset
                    else build_backbone(config.model, len(vocabulary), length))
        return masked_lm.build_pretrainer(backbone, config.pretraining.max_predictions_per_seq, nsp)

    start = f"continued from {base_preset}" if base_preset else f"a {config.model.preset}"
    return loop.fit(config, loop.Fit(
        build_model=build_model,
        compile_kwargs=lambda: masked_lm.compile_kwargs(nsp),
        train=data.dataset(train_files, batch, training=True),
        evaluation=data.dataset(eval_files, batch, training=False),
        train_examples=data.count(train_files),
        headline=HEADLINE,
        description=f"a masked LM{' + NSP' if nsp else ''} ({start}): vocab {len(vocabulary)}",
    ), log_dir)
