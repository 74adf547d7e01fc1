"""The causal_lm kind's entry in the task registry: what each of its parts is."""
from components.nn.metrics.lm_eval_config import PERPLEXITY, build_lm_eval_config
from components.tasks import Task
from components.tasks.causal_lm import export, preprocess, train
from components.tasks.causal_lm.request import request
from components.text.readers import TEXT

TASK = Task(
    preprocess=preprocess.preprocess, train=train.train, export=export.export, eval_config=build_lm_eval_config,
    input_format=TEXT, request=request, request_text=export.request_text, headline=PERPLEXITY,
    transform_reads=("tokenizer", "base_model"),
    # continued pretraining from a causal_lm pipeline of this workdir; keras-hub's GPT-2 presets read BPE, not WordPiece
    base_model_sources=("pipeline",),
    trainer_reads=("tokenizer", "model", "training", "base_model"))
