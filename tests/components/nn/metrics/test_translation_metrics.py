"""BLEU and chrF as TFMA metrics are exactly sacrebleu's corpus scores on the same strings, however Beam splits and
merges the examples."""
import numpy as np
import pytest
import sacrebleu
import tensorflow_model_analysis as tfma

from components.nn.metrics import tfma_translation

TRANSLATIONS = ["Die Datei %s konnte nicht geöffnet werden.", "Fehler beim Lesen", "Zeile %d: ungültig",
                "Speicher erschöpft", "无法打开文件 %s"]
REFERENCES = ["Datei %s konnte nicht geöffnet werden.", "Fehler beim Lesen von %s", "Zeile %d ist ungültig",
              "Speicher ist erschöpft", "无法打开文件“%s”"]


def _score(metric, translations=TRANSLATIONS, references=REFERENCES):
    (computation,) = metric.computations(eval_config=tfma.EvalConfig(), model_names=[""], output_names=[""])
    combiner = computation.combiner
    accumulators = []
    for part in (slice(0, 2), slice(2, None)):  # two workers, each with some examples
        accumulator = combiner.create_accumulator()
        for translation, reference in zip(translations[part], references[part]):
            element = tfma.metrics.StandardMetricInputs({
                tfma.LABELS_KEY: np.array([reference.encode()], dtype=object),
                tfma.PREDICTIONS_KEY: np.array(translation.encode(), dtype=object)})
            accumulator = combiner.add_input(accumulator, element)
        accumulators.append(accumulator)
    (key, value), = combiner.extract_output(combiner.merge_accumulators(reversed(accumulators))).items()
    return key.name, value


@pytest.mark.parametrize("tokenize", ["13a", "zh"])
def test_bleu_is_sacrebleus_corpus_bleu(tokenize):
    expected = sacrebleu.corpus_bleu(TRANSLATIONS, [REFERENCES], tokenize=tokenize).score
    assert _score(tfma_translation.Bleu(tokenize=tokenize)) == ("bleu", pytest.approx(expected, abs=1e-9))
    assert 0 < expected < 100


def test_chrf_is_sacrebleus_corpus_chrf():
    expected = sacrebleu.corpus_chrf(TRANSLATIONS, [REFERENCES]).score
    assert _score(tfma_translation.Chrf()) == ("chrf", pytest.approx(expected, abs=1e-9))


def test_a_perfect_translation_scores_100_and_no_examples_score_nan():
    assert _score(tfma_translation.Bleu(), REFERENCES, REFERENCES)[1] == pytest.approx(100.0)
    (computation,) = tfma_translation.Chrf().computations(model_names=[""], output_names=[""])
    (value,) = computation.combiner.extract_output(computation.combiner.create_accumulator()).values()
    assert np.isnan(value)
