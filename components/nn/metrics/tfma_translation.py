"""Corpus BLEU and chrF as TFMA metrics, computed by sacrebleu (the field's standard) on the eval split.

Labels are the reference translations and predictions the model's, one string per example (the translation
export's `serving_examples` decodes with the served settings; the references are the raw `target` feature). The
combiner gathers every (translation, reference) pair and hands the whole corpus to sacrebleu's corpus_score, so the
figures are exactly sacrebleu's on those strings, whatever order Beam merged them in (corpus BLEU and chrF are sums
of per-sentence statistics). Memory grows with the eval split's text, a few MB for thousands of sentences.

Use as tfma.MetricConfig(class_name="Bleu", module=__name__, config='{"tokenize": "zh"}', threshold=...) (the
tokenizer as sacrebleu names it: "13a" by default, "zh" for Chinese targets) and class_name="Chrf"; the keys are
BLEU ("bleu") and CHRF ("chrf"), on sacrebleu's 0-100 scale.
"""
import functools
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import numpy as np
import sacrebleu
from tensorflow_model_analysis.metrics import metric_types

BLEU, CHRF = "bleu", "chrf"
Corpus = Tuple[List[str], List[str]]  # (translations, references)


class Bleu(metric_types.Metric):
    def __init__(self, name: str = BLEU, tokenize: str = "13a"):
        super().__init__(functools.partial(_computations, scorer="bleu"), name=name, tokenize=tokenize)


class Chrf(metric_types.Metric):
    def __init__(self, name: str = CHRF):
        super().__init__(functools.partial(_computations, scorer="chrf"), name=name)


def corpus_score(scorer: str, translations: List[str], references: List[str], tokenize: str = "13a") -> float:
    """sacrebleu's corpus score (0-100) of translations against one reference each."""
    metric = sacrebleu.BLEU(tokenize=tokenize) if scorer == "bleu" else sacrebleu.CHRF()
    return float(metric.corpus_score(translations, [references]).score)


def _computations(name: str, scorer: str, tokenize: str = "13a", model_names: Iterable[str] = ("",),
                  output_names: Iterable[str] = ("",), example_weighted: bool = False,
                  **_) -> metric_types.MetricComputations:
    computations = []
    for model_name in model_names or ("",):
        for output_name in output_names or ("",):
            key = metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name,
                                         example_weighted=example_weighted)
            computations.append(metric_types.MetricComputation(
                keys=[key], preprocessors=None,
                combiner=_CorpusCombiner(key, model_name, output_name, scorer, tokenize)))
    return computations


class _CorpusCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, model_name: str, output_name: Optional[str], scorer: str,
                 tokenize: str):
        self._key, self._model_name, self._output_name = key, model_name, output_name
        self._scorer, self._tokenize = scorer, tokenize

    def create_accumulator(self) -> Corpus:
        return [], []

    def add_input(self, accumulator: Corpus, element: metric_types.StandardMetricInputs) -> Corpus:
        model, output = self._model_name or None, self._output_name or None
        translations = _strings(element.get_predictions(model, output))
        references = _strings(element.get_labels(model, output))
        if len(translations) != len(references):
            raise ValueError(f"{len(translations)} translation(s) for {len(references)} reference(s) in one example")
        accumulator[0].extend(translations)
        accumulator[1].extend(references)
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[Corpus]) -> Corpus:
        translations, references = [], []
        for more_translations, more_references in accumulators:
            translations.extend(more_translations)
            references.extend(more_references)
        return translations, references

    def extract_output(self, accumulator: Corpus) -> Dict[metric_types.MetricKey, float]:
        translations, references = accumulator
        if not translations:
            return {self._key: float("nan")}
        return {self._key: corpus_score(self._scorer, translations, references, self._tokenize)}


def _strings(values) -> List[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(values).reshape(-1)]


metric_types.register_metric(Bleu)
metric_types.register_metric(Chrf)
