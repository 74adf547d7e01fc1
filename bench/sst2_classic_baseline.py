"""The classic baseline bench/sst2_classifier.py is held against: bag-of-n-grams linear classifiers on SST-2.

Logistic regression on binary word n-grams, plain and Naive-Bayes-weighted (NBSVM, Wang & Manning 2012, with a
logistic loss in place of the hinge), the strongest of the pre-neural sentence classifiers. The same split as the
transformer: fit on train, n-gram range and regularization chosen on dev, test scored once with the dev-chosen
setting. Seconds on a laptop; needs ../shared/data/sst2.

    .venv/bin/python bench/sst2_classic_baseline.py
"""
import itertools
import os
import sys

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sst2_classifier import SST2, read_sst2  # noqa: E402

NGRAMS = ((1, 1), (1, 2), (1, 3))
STRENGTHS = (0.1, 0.3, 1.0, 3.0, 10.0)  # C: inverse L2 strength


def naive_bayes_ratio(x: sparse.csr_matrix, positive: np.ndarray) -> np.ndarray:
    """log(p(feature | positive) / p(feature | negative)) with add-one smoothing: NBSVM's feature weights."""
    p = 1.0 + np.asarray(x[positive].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(x[~positive].sum(axis=0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def split(rows):
    return [text for text, _ in rows], np.array([label == "positive" for _, label in rows])


def main():
    if not os.path.isdir(SST2):
        sys.exit(f"SST-2 not found at {SST2}")
    (train, y_train), (dev, y_dev), (test, y_test) = (split(read_sst2(name)) for name in ("train", "dev", "test"))
    results = []  # (dev accuracy, test accuracy, weighting, n-grams, C)
    for ngrams, weighting in itertools.product(NGRAMS, ("plain", "NB-weighted")):
        vectorizer = CountVectorizer(ngram_range=ngrams, binary=True, token_pattern=r"\S+")  # SST-2 is pre-tokenized
        x_train = vectorizer.fit_transform(train)
        scale = sparse.diags(naive_bayes_ratio(x_train, y_train) if weighting == "NB-weighted"
                             else np.ones(x_train.shape[1]))
        for c in STRENGTHS:
            model = LogisticRegression(C=c, max_iter=5000).fit(x_train @ scale, y_train)
            dev_accuracy, test_accuracy = ((model.predict(vectorizer.transform(texts) @ scale) == labels).mean()
                                           for texts, labels in ((dev, y_dev), (test, y_test)))
            results.append((dev_accuracy, test_accuracy, weighting, ngrams, c))
            print(f"{weighting:>11} n-grams {ngrams[0]}-{ngrams[1]}  C {c:<4}  dev {dev_accuracy:.4f}  "
                  f"test {test_accuracy:.4f}")
    for weighting in ("plain", "NB-weighted"):
        # by dev alone: on a tie the first setting, never the better test score
        dev_accuracy, test_accuracy, _, ngrams, c = max((r for r in results if r[2] == weighting), key=lambda r: r[0])
        print(f"\nchosen on dev: {weighting} logistic regression, n-grams {ngrams[0]}-{ngrams[1]}, C {c}: "
              f"dev {dev_accuracy:.4f}, test accuracy {test_accuracy:.4f} ({len(test)} sentences)")
    tests = np.array([r[1] for r in results])
    print(f"every setting's test accuracy: {tests.min():.4f} - {tests.max():.4f} (median {np.median(tests):.4f})")


if __name__ == "__main__":
    main()
