"""Perplexity as a TFMA metric, from what the LM's `score_examples` signature returns per document.

exp(sum of token losses / number of tokens) over the whole eval split: documents weigh by their length, as they
do in training. Predictions are {LOSS_SUM: (B,), TOKEN_COUNT: (B,)}; no labels are needed. TokenAccuracy is the
same kind of ratio, sum of CORRECT_COUNT / sum of TOKEN_COUNT (the masked LM's masked-token accuracy).
"""
import functools
from typing import Dict, Iterable, Optional, Tuple

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis import constants
from tensorflow_model_analysis.metrics import metric_types

LOSS_SUM, TOKEN_COUNT, CORRECT_COUNT = "loss_sum", "token_count", "correct_count"
NAME = "perplexity"
TOKEN_ACCURACY = "token_accuracy"


class Perplexity(metric_types.Metric):
    def __init__(self, name: str = NAME):
        super().__init__(functools.partial(_computations, numerator=LOSS_SUM, exponentiate=True), name=name)


class TokenAccuracy(metric_types.Metric):
    def __init__(self, name: str = TOKEN_ACCURACY):
        super().__init__(functools.partial(_computations, numerator=CORRECT_COUNT, exponentiate=False), name=name)


def _computations(name: str = NAME, model_names: Iterable[str] = ("",), output_names: Iterable[str] = ("",),
                  example_weighted: bool = False, numerator: str = LOSS_SUM, exponentiate: bool = True,
                  **_) -> metric_types.MetricComputations:
    computations = []
    for model_name in model_names:
        for output_name in output_names:
            key = metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name,
                                         example_weighted=example_weighted)
            computations.append(metric_types.MetricComputation(
                keys=[key],
                preprocessors=[metric_types.StandardMetricInputsPreprocessor(
                    include_filter={constants.PREDICTIONS_KEY: {}}, include_default_inputs=False)],
                combiner=_RatioCombiner(key, model_name, output_name, numerator, exponentiate)))
    return computations


class _RatioCombiner(beam.CombineFn):
    """Accumulates (total `numerator`, total tokens); the result is their ratio, exponentiated for perplexity."""

    def __init__(self, key: metric_types.MetricKey, model_name: str, output_name: Optional[str], numerator: str,
                 exponentiate: bool):
        self._key, self._model_name, self._output_name = key, model_name, output_name
        self._numerator, self._exponentiate = numerator, exponentiate

    def create_accumulator(self) -> Tuple[float, float]:
        return 0.0, 0.0

    def add_input(self, accumulator, element: metric_types.StandardMetricInputs) -> Tuple[float, float]:
        predictions = element.get_predictions(self._model_name or None, self._output_name or None)
        return (accumulator[0] + float(np.sum(predictions[self._numerator])),
                accumulator[1] + float(np.sum(predictions[TOKEN_COUNT])))

    def merge_accumulators(self, accumulators: Iterable[Tuple[float, float]]) -> Tuple[float, float]:
        losses, tokens = zip(*accumulators)
        return sum(losses), sum(tokens)

    def extract_output(self, accumulator) -> Dict[metric_types.MetricKey, float]:
        total, tokens = accumulator
        if not tokens:
            return {self._key: float("nan")}
        return {self._key: float(np.exp(total / tokens)) if self._exponentiate else total / tokens}


metric_types.register_metric(Perplexity)
metric_types.register_metric(TokenAccuracy)
