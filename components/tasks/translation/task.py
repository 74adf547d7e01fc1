"""The translation kind's entry in the task registry: what each of its parts is."""
from components.tasks import Task
from components.tasks.translation import evaluation, export, preprocess, train
from components.tasks.translation.request import request
from components.text.readers import PARALLEL

TASK = Task(
    preprocess=preprocess.preprocess, train=train.train, export=export.export, eval_config=evaluation.eval_config,
    input_format=PARALLEL, request=request, request_text=export.request_text, headline=evaluation.HEADLINE,
    transform_reads=("tokenizer", "base_model"),
    base_model_sources=("pipeline", "preset"),  # a masked LM or BERT preset starts the encoder
    trainer_reads=("tokenizer", "model", "training", "base_model", "decoding"))
