"""Reference decoding in plain Python: every step recomputes the whole prefix (no cache), one hypothesis at a time
in lists, so it shares nothing with components/nn/decoding.py but the model's weights and the rules it documents."""
from typing import Callable, List, Sequence

import numpy as np

from components.nn.decoding import BANNED_IDS, END_ID

# next_logits(prefixes) -> float (len(prefixes), V): the logits after [CLS] + prefix, for each prefix
NextLogits = Callable[[List[List[int]]], np.ndarray]


def log_probabilities(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, np.float32).copy()
    logits[..., BANNED_IDS] = -np.inf
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))).astype(np.float32)


def greedy(next_logits: NextLogits, max_new: int) -> List[int]:
    tokens: List[int] = []
    for _ in range(max_new):
        token = int(np.argmax(log_probabilities(next_logits([tokens]))[0]))
        if token == END_ID:
            break
        tokens.append(token)
    return tokens


def beam_search(next_logits: NextLogits, width: int, length_penalty: float, max_new: int) -> List[int]:
    """fairseq's rule: of the 2 x width best expansions, those ending among the best `width` finish (scored
    log P / length ** length_penalty, the end marker counted); the best `width` others live on; done after `width`
    finished hypotheses or max_new pieces; the best-scoring finished hypothesis wins (the first on ties)."""
    alive = [([], np.float32(0.0))]
    best, best_score, finished = None, -np.inf, 0
    for index in range(max_new):
        log_p = log_probabilities(next_logits([tokens for tokens, _ in alive]))
        vocabulary = log_p.shape[1]
        candidates = [(np.float32(score + log_p[j, v]), j * vocabulary + v, j, v)
                      for j, (_, score) in enumerate(alive) for v in range(vocabulary)]
        candidates.sort(key=lambda c: (-c[0], c[1]))
        top = candidates[:2 * width]
        last = index + 1 >= max_new
        for rank, (score, _, j, v) in enumerate(top):
            if rank < width and (v == END_ID or last) and score > -np.inf:
                finished += 1
                normalized = np.float32(score / np.power(np.float32(index + 1), np.float32(length_penalty)))
                if normalized > best_score:
                    best, best_score = alive[j][0] + [v], normalized
        alive = [(alive[j][0] + [v], score) for score, _, j, v in top if v != END_ID][:width]
        if finished >= width or last:
            break
    return [t for t in best if t != END_ID]


def strip(pieces: Sequence[int]) -> List[int]:
    """A decoded row without its padding."""
    return [int(p) for p in pieces if p != 0]
