"""Pretrained BERT backbones as keras-hub presets: what a pretraining run exports and what fine-tuning starts from.

A pretraining run writes its backbone and vocabulary as a preset directory inside its serving SavedModel
(`BACKBONE_DIR`, ignored by TF Serving), so the Model artifact that MLMD blesses carries everything fine-tuning
needs. A keras-hub preset from elsewhere (a directory or a handle) works the same way.

Our vocabularies put the special tokens first ([PAD]=0, [UNK], [CLS], [SEP], [MASK]); keras-hub's BERT vocabularies
have them elsewhere ([UNK]=100, [CLS]=101, ...). Rather than thread other ids through every encoder, a preset's
vocabulary is reordered specials-first and its token-embedding rows are permuted the same way (`_specials_first`):
the same model, under our ids. Our own presets already have that order, so the permutation is the identity.
"""
import os
from typing import List, Optional, Sequence, Tuple

import keras_hub
import numpy as np

from components.core import features
from components.core.config import BaseModelConfig
from components.core.errors import UserError

BACKBONE_DIR = os.path.join("assets.extra", "backbone")  # under a pretraining run's serving model directory


def save(backbone: keras_hub.models.BertBackbone, vocabulary: Sequence[str], lowercase: bool, directory: str) -> None:
    """Writes `directory` as a preset that BertBackbone/BertTokenizer.from_preset load (and `load_backbone`)."""
    backbone.save_to_preset(directory)
    # Our normalizer strips accents exactly when it lowercases; the tokenizer config records both.
    keras_hub.models.BertTokenizer(vocabulary=list(vocabulary), lowercase=lowercase,
                                   strip_accents=lowercase).save_to_preset(directory)


def resolve(base: BaseModelConfig, base_model_dir: Optional[str]) -> Optional[str]:
    """The preset fine-tuning starts from: inside the resolved base model (a pretraining run's serving directory,
    as TFX hands it over), else base_model.preset; None when training from scratch."""
    if base.source == "none":
        return None
    if base_model_dir:
        return os.path.join(base_model_dir, BACKBONE_DIR)
    if base.source == "pipeline" and not base.preset:
        raise UserError(f"pipeline {base.pipeline_name!r} has no blessed model in this workdir to fine-tune from",
                        hint="run the pretraining pipeline (task=masked_lm) with the same workdir first")
    return base.preset


def vocabulary(preset: str) -> Tuple[List[str], bool]:
    """(tokens specials-first, lowercase) of a preset's BERT tokenizer."""
    tokens, lowercase = _tokenizer(preset)
    return [tokens[i] for i in _specials_first(tokens)], lowercase


def load_backbone(preset: str, dropout: float) -> keras_hub.models.BertBackbone:
    """The preset's backbone and weights (its own sizes), token embeddings reordered as `vocabulary` orders tokens."""
    backbone = _load(keras_hub.models.BertBackbone, preset, dropout=dropout)
    order = _specials_first(_tokenizer(preset)[0])
    if order != list(range(len(order))):
        embeddings = backbone.token_embedding.embeddings
        embeddings.assign(np.asarray(embeddings.numpy())[order])
    return backbone


def _tokenizer(preset: str) -> Tuple[List[str], bool]:
    tokenizer = _load(keras_hub.models.BertTokenizer, preset)
    return list(tokenizer.get_vocabulary()), bool(tokenizer.lowercase)


def _specials_first(tokens: Sequence[str]) -> List[int]:
    """The permutation that moves features.SPECIAL_TOKENS to the front, in our order; the rest keep theirs.
    (BertTokenizer.from_preset has already refused a vocabulary without them.)"""
    specials = [tokens.index(t) for t in features.SPECIAL_TOKENS]
    rest = set(range(len(tokens))) - set(specials)
    return specials + sorted(rest)


def _load(cls, preset: str, **kwargs):
    try:
        return cls.from_preset(preset, **kwargs)
    except (ValueError, FileNotFoundError, OSError) as e:
        raise UserError(f"cannot load a BERT {cls.__name__[4:].lower()} from preset {preset!r}: {e}",
                        hint="give base_model.preset a keras-hub BERT preset: a directory written by "
                             "save_to_preset (config.json, tokenizer.json, ...) or a handle like "
                             "'bert_tiny_en_uncased'") from None
