"""The classification kind's entry in the task registry: what each of its parts is."""
from components.tasks import Task
from components.tasks.classification import evaluation, export, preprocess, train
from components.tasks.classification.request import request
from components.text.readers import CSV

TASK = Task(
    preprocess=preprocess.preprocess, train=train.train, export=export.export, eval_config=evaluation.eval_config,
    input_format=CSV, request=request, request_text=export.request_text, headline=evaluation.HEADLINE,
    transform_reads=("data", "tokenizer", "base_model"),
    base_model_sources=("pipeline", "preset"),
    trainer_reads=("data", "tokenizer", "model", "training", "base_model"))
