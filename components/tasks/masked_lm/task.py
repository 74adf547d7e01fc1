"""The masked_lm kind's entry in the task registry: what each of its parts is."""
from components.tasks import Task
from components.tasks.masked_lm import evaluation, export, preprocess, train
from components.tasks.masked_lm.request import request
from components.text.readers import TEXT

TASK = Task(
    preprocess=preprocess.preprocess, train=train.train, export=export.export, eval_config=evaluation.eval_config,
    input_format=TEXT, request=request, request_text=export.request_text, headline=evaluation.HEADLINE,
    transform_reads=("tokenizer", "base_model"),
    base_model_sources=("pipeline", "preset"),  # continued pretraining
    trainer_reads=("tokenizer", "model", "training", "pretraining", "base_model"))
