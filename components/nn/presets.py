"""Pretrained backbones as keras-hub presets: what a language-model run exports and what fine-tuning or continued
pretraining starts from.

A masked-LM run writes its BERT backbone and vocabulary as a preset directory inside its serving SavedModel
(`BACKBONE_DIR`, ignored by TF Serving), and a causal-LM run its GPT-2 backbone and vocabulary the same way, so the
Model artifact that MLMD blesses carries everything a run starting from it needs. A keras-hub preset from elsewhere
(a directory or a handle) works the same way. Which kind of model a preset holds is read from its backbone class
(`BACKBONES`), so a base of the wrong kind is refused by name before anything is built.

Our vocabularies put the special tokens first ([PAD]=0, [UNK], [CLS], [SEP], [MASK]); keras-hub's BERT vocabularies
have them elsewhere ([UNK]=100, [CLS]=101, ...). Rather than thread other ids through every encoder, a preset's
vocabulary is reordered specials-first and its token-embedding rows are permuted the same way (`_specials_first`):
the same model, under our ids. Our own presets already have that order, so the permutation is the identity.
"""
import os
from typing import List, Optional, Sequence, Tuple

import keras_hub
import numpy as np
from keras_hub.src.utils import preset_utils

from components.core import features
from components.core.config import BaseModelConfig
from components.core.errors import UserError

BACKBONE_DIR = os.path.join("assets.extra", "backbone")  # under a language model's serving model directory
MASKED_LM, CAUSAL_LM = "masked_lm", "causal_lm"
# The task kinds whose models are bases, by the backbone their presets hold.
BACKBONES = {MASKED_LM: keras_hub.models.BertBackbone, CAUSAL_LM: keras_hub.models.GPT2Backbone}


def save(backbone: keras_hub.models.Backbone, vocabulary: Sequence[str], lowercase: bool, directory: str) -> None:
    """Writes `directory` as a preset that `vocabulary` and `load_backbone` read (and keras-hub's from_preset: a BERT
    one entirely; for a GPT-2 one the backbone, as its tokenizer is WordPiece where keras-hub expects BPE)."""
    backbone.save_to_preset(directory)
    # Our normalizer strips accents exactly when it lowercases; the tokenizer config records both.
    keras_hub.models.BertTokenizer(vocabulary=list(vocabulary), lowercase=lowercase,
                                   strip_accents=lowercase).save_to_preset(directory)


def resolve(base: BaseModelConfig, base_model_dir: Optional[str]) -> Optional[str]:
    """The preset a run starts from: inside the resolved base model (a language model's serving directory, as TFX
    hands it over), else base_model.preset; None when training from scratch."""
    if base.source == "none":
        return None
    if base_model_dir:
        return os.path.join(base_model_dir, BACKBONE_DIR)
    if base.source == "pipeline" and not base.preset:
        raise UserError(f"pipeline {base.pipeline_name!r} has no blessed model in this workdir to start from",
                        hint=f"run pipeline {base.pipeline_name!r} with the same workdir first, until a model of it "
                             "is blessed")
    return base.preset


def vocabulary(preset: str, kind: str = MASKED_LM) -> Tuple[List[str], bool]:
    """(tokens specials-first, lowercase) of the WordPiece tokenizer of a preset of `kind`'s backbone."""
    tokens, lowercase = _tokenizer(preset, kind)
    return [tokens[i] for i in _specials_first(tokens)], lowercase


def load_backbone(preset: str, dropout: float, kind: str = MASKED_LM) -> keras_hub.models.Backbone:
    """The preset's backbone (`kind`'s) and weights, its own sizes, token embeddings reordered as `vocabulary` orders
    tokens."""
    order = _specials_first(_tokenizer(preset, kind)[0])  # refuses a preset of another kind first
    backbone = _guarded(kind, "backbone", preset, lambda: BACKBONES[kind].from_preset(preset, dropout=dropout))
    if order != list(range(len(order))):
        embeddings = backbone.token_embedding.embeddings
        embeddings.assign(np.asarray(embeddings.numpy())[order])
    return backbone


def _tokenizer(preset: str, kind: str) -> Tuple[List[str], bool]:
    loader = _loader(preset, kind)
    # The tokenizer its tokenizer.json names: from_preset would look for a BPE one beside a GPT-2 backbone.
    tokenizer = _guarded(kind, "tokenizer", preset, lambda: loader.load_tokenizer(keras_hub.models.BertTokenizer))
    return list(tokenizer.get_vocabulary()), bool(tokenizer.lowercase)


def _loader(preset: str, kind: str) -> preset_utils.PresetLoader:
    """keras-hub's reader of the preset (what from_preset dispatches on), once its backbone is known to be `kind`'s."""
    loader = _guarded(kind, "backbone", preset, lambda: preset_utils.get_preset_loader(preset))
    found = _guarded(kind, "backbone", preset, loader.check_backbone_class)
    if not issubclass(found, BACKBONES[kind]):
        theirs = next((f"a {name} model" for name, cls in BACKBONES.items() if issubclass(found, cls)), "a model")
        raise UserError(f"the base model {preset} is {theirs} ({found.__name__}), not a {kind} model "
                        f"({BACKBONES[kind].__name__}) as this task starts from",
                        hint=f"base_model.pipeline_name must name a task={kind} pipeline of this workdir"
                             + (" (or base_model.preset a keras-hub BERT preset)" if kind == MASKED_LM else ""))
    return loader


def _specials_first(tokens: Sequence[str]) -> List[int]:
    """The permutation that moves features.SPECIAL_TOKENS to the front, in our order; the rest keep theirs.
    (BertTokenizer has already refused a vocabulary without them.)"""
    specials = [tokens.index(t) for t in features.SPECIAL_TOKENS]
    rest = set(range(len(tokens))) - set(specials)
    return specials + sorted(rest)


def _guarded(kind: str, what: str, preset: str, load):
    try:
        return load()
    except (ValueError, FileNotFoundError, OSError) as e:
        raise UserError(f"cannot load a {kind} {what} from preset {preset!r}: {e}",
                        hint="give a keras-hub preset: a directory written by save_to_preset (config.json, "
                             "tokenizer.json, ...), such as a language model's <serving model>/assets.extra/backbone, "
                             "or a handle like 'bert_tiny_en_uncased'") from None
