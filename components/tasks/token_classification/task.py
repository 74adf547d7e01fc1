"""The token_classification kind's entry in the task registry: what each of its parts is."""
from components.tasks import Task
from components.tasks.token_classification import evaluation, export, preprocess, train
from components.tasks.token_classification.request import request
from components.text.readers import CONLL

TASK = Task(
    preprocess=preprocess.preprocess, train=train.train, export=export.export, eval_config=evaluation.eval_config,
    input_format=CONLL, request=request, request_text=export.request_text, headline=evaluation.HEADLINE,
    transform_reads=("tokenizer", "base_model"),
    base_model_sources=("pipeline", "preset"),
    trainer_reads=("tokenizer", "model", "training", "base_model"))
