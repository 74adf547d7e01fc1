"""Paired bootstrap over test sentences: is arm A ahead of arm B, or is the gap inside what another sample of test
sentences would give? Both arms are resampled with the same sentences (Koehn 2004; Dror et al. 2018)."""
from typing import Callable

import numpy as np

DRAWS = 10_000


def paired_bootstrap(ours: np.ndarray, theirs: np.ndarray, score: Callable[[np.ndarray], np.ndarray],
                     draws: int = DRAWS):
    """`ours`, `theirs`: per-sentence rows (N, ...) of each arm; `score` maps resamples (draws, N, ...) to their
    scores (draws,). -> (2.5th, 97.5th percentile of score(ours) - score(theirs), share of resamples where ours is
    not ahead)."""
    rows = np.random.default_rng(0).integers(0, len(ours), size=(draws, len(ours)))
    differences = score(ours[rows]) - score(theirs[rows])
    return np.percentile(differences, 2.5), np.percentile(differences, 97.5), np.mean(differences <= 0)


def accuracy(hits: np.ndarray) -> np.ndarray:
    """Resamples (draws, N) of per-sentence right-or-wrong (or its mean over seeds) -> accuracy (draws,)."""
    return hits.mean(axis=1)


def entity_f1(counts: np.ndarray) -> np.ndarray:
    """Resamples (draws, N, 3) of per-sentence (true positives, predicted, gold) entities -> micro F1 (draws,)."""
    tp, predicted, gold = np.moveaxis(counts.sum(axis=1), -1, 0)
    return np.divide(2 * tp, predicted + gold, out=np.zeros_like(tp, dtype=float), where=predicted + gold > 0)
