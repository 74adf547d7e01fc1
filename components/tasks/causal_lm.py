"""Causal (GPT-style) language modelling: a plain-text corpus -> next-token prediction -> generated text."""
from components import features
from components.columns import strings
from components.lm_evaluation import build_lm_eval_config
from components.readers import TEXT as TEXT_FORMAT
from components.readers.text_corpus import TEXT
from components.tasks import Task
from components.tokenization import wordpiece_learner
from components.training.causal_lm import train_causal_lm
from pipeline.config import Config
from serving.export_lm import export_causal_lm


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids: int64, one variable-length row of word pieces per document, no special tokens (the
    trainer packs documents into windows and adds the separators)."""
    texts = strings(inputs[TEXT])
    encoder = wordpiece_learner.learned_encoder(texts, config.tokenizer)
    return {features.TOKEN_IDS: encoder.wordpieces(texts).to_sparse()}


def _train(config, tft_output, train_files, eval_files, log_dir, base_model_dir=None):
    return train_causal_lm(config, tft_output, train_files, eval_files, log_dir)


def _export(model, tft_output, config: Config, export_dir: str) -> None:
    export_causal_lm(model, tft_output, TEXT, config.tokenizer.max_seq_length, export_dir)


TASK = Task(preprocess=preprocess, train=_train, export=_export, eval_config=build_lm_eval_config,
            input_format=TEXT_FORMAT)
