"""The searching learner must learn exactly what tensorflow-text's learner learns, only sooner."""
import collections
import random

import pytest
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner_lib

from components.core import features
from components.text.tokenization import wordpiece_search
from tests.generated_data import FILLER, NEGATIVE, PEOPLE, PLACES, POSITIVE

SPECIALS = list(features.SPECIAL_TOKENS)


def _word_counts(seed: int):
    """Zipf-like counts over real-looking words and their inflections, some with '#' (a joiner look-alike), some
    Chinese: many thresholds of the search give different vocabularies."""
    rng = random.Random(seed)
    stems = FILLER + POSITIVE + NEGATIVE + [w.lower() for w in PEOPLE + PLACES] + ["#tag", "c#", "电影", "很好看"]
    words = collections.Counter()
    for rank, stem in enumerate(rng.sample(stems, len(stems))):
        for suffix in ("", "s", "ly", "ness", "ed", "##x"):
            words[stem + suffix] += rng.randint(1, 2000) // (rank + 1) + 1
    return sorted(words.items())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("vocab_size,lower_thresh", [(60, 1), (120, 2), (400, 1), (2000, 10)])
def test_same_vocabulary_as_tensorflow_text(seed, vocab_size, lower_thresh):
    counts = _word_counts(seed)
    expected = learner_lib.learn(counts, vocab_size, SPECIALS, lower_thresh=lower_thresh)
    assert wordpiece_search.learn(counts, vocab_size=vocab_size, reserved_tokens=SPECIALS,
                                  lower_thresh=lower_thresh) == expected


def test_counts_the_first_pass_once_per_search(monkeypatch):
    """Every probe of the search starts its first pass from no tokens: it is counted once, not once per probe."""
    first_passes, probes = [], []
    count, vocabulary = wordpiece_search._count, wordpiece_search._Passes.vocabulary
    monkeypatch.setattr(wordpiece_search, "_count",
                        lambda words, tokens, params: first_passes.append(tokens is None) or count(words, tokens, params))
    monkeypatch.setattr(wordpiece_search._Passes, "vocabulary",
                        lambda self, threshold: probes.append(threshold) or vocabulary(self, threshold))
    wordpiece_search.learn(_word_counts(0), vocab_size=120, reserved_tokens=SPECIALS, lower_thresh=1)
    assert len(probes) > 3 and first_passes.count(True) == 1
