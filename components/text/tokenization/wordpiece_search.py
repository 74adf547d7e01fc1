"""tensorflow-text's WordPiece learner with its repeated work done once: the same vocabulary, in a fraction of the time.

`learner_lib.learn` binary-searches the frequency threshold that yields `vocab_size` tokens, and for every probe
learns a whole vocabulary: 4 passes, each counting every candidate sub-word of every word (starting where the
previous pass's tokens split the word), then discounting each candidate's prefixes by its count, then keeping the
candidates counted at least `threshold` times. Only that last cut depends on the threshold: a pass's discounted
counts depend on nothing but the tokens it starts from. The first pass always starts from no tokens, and probes
often start later passes from the same tokens (every threshold between two adjacent counts keeps the same ones), so
those counts are computed once per distinct start and each probe only cuts. The passes themselves are
`learner_lib`'s own loops, unchanged; the tests compare with `learner_lib.learn`.
"""
import collections
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner_lib

# learner_lib.learn's defaults, which the vocabulary learned inside Transform has always used.
_DEFAULTS = dict(upper_thresh=int(1e7), num_iterations=4, max_input_tokens=int(5e6), max_token_length=50,
                 max_unique_chars=1000, slack_ratio=0.05, include_joiner_token=True, joiner="##")
_CACHED_STARTS = 8  # distinct token sets whose pass counts are kept (each holds every candidate sub-word)


def learn(word_counts: Sequence[Tuple[str, int]], *, vocab_size: int, reserved_tokens: List[str],
          lower_thresh: int) -> List[str]:
    """What `learner_lib.learn(word_counts, vocab_size, reserved_tokens, lower_thresh=lower_thresh)` returns."""
    params = learner_lib.Params(lower_thresh=lower_thresh, vocab_size=vocab_size, reserved_tokens=reserved_tokens,
                                **_DEFAULTS)
    upper, lower = learner_lib.get_search_threshs(word_counts, params.upper_thresh, params.lower_thresh)
    words = learner_lib.get_input_words(word_counts, params.reserved_tokens, params.max_token_length)
    words = learner_lib.filter_input_words(words, learner_lib.get_allowed_chars(words, params.max_unique_chars),
                                           params.max_input_tokens)
    passes = _Passes(words, params)
    slack = max(params.slack_ratio * params.vocab_size, 0)
    while True:  # learner_lib.learn_binary_search, as a loop
        threshold = (upper + lower) // 2
        vocab = passes.vocabulary(threshold)
        size = len(vocab)
        if (size <= vocab_size and vocab_size - size <= slack) or lower >= upper or threshold <= 1:
            return vocab
        if size > vocab_size:
            lower = threshold + 1
        else:
            upper = threshold - 1


class _Passes:
    """learner_lib.learn_with_thresh, with each pass's discounted counts kept per distinct set of starting tokens."""

    def __init__(self, words: List[Tuple[str, int]], params):
        self._words, self._params = words, params
        self._char_tokens = learner_lib.extract_char_tokens(words)
        self._counted: "collections.OrderedDict[Optional[FrozenSet[str]], Tuple[List[str], np.ndarray]]" = (
            collections.OrderedDict())

    def vocabulary(self, threshold: int) -> List[str]:
        params = self._params
        tokens = self._with_chars({})
        for iteration in range(params.num_iterations):
            candidates, counts = self._discounted(None if iteration == 0 else frozenset(tokens), tokens)
            kept = {}
            for i in np.flatnonzero(counts >= threshold):  # in the learner's order: a later duplicate overwrites
                kept[candidates[i]] = int(counts[i])
            tokens = self._with_chars(kept)
        return learner_lib.generate_final_vocabulary(params.reserved_tokens, self._char_tokens, tokens)

    def _with_chars(self, tokens: Dict[str, int]) -> Dict[str, int]:
        return learner_lib.ensure_all_tokens_exist(self._char_tokens, tokens, self._params.include_joiner_token,
                                                   self._params.joiner)

    def _discounted(self, start: Optional[FrozenSet[str]], tokens: Dict[str, int]) -> Tuple[List[str], np.ndarray]:
        """Every candidate of the pass that starts from `tokens` (None: the first pass, which splits nowhere) with
        its count after the prefix discount, in the order the learner visits them."""
        if start in self._counted:
            self._counted.move_to_end(start)
            return self._counted[start]
        counted = _count(self._words, None if start is None else tokens, self._params)
        self._counted[start] = counted
        if len(self._counted) > _CACHED_STARTS:
            self._counted.popitem(last=False)
        return counted


def _count(words: List[Tuple[str, int]], tokens: Optional[Dict[str, int]], params) -> Tuple[List[str], np.ndarray]:
    """One pass of learner_lib.learn_with_thresh up to (not including) its threshold cut."""
    joiner, with_joiner = params.joiner, params.include_joiner_token
    subtokens = [dict() for _ in range(params.max_token_length + 1)]
    for word, count in words:
        if tokens is None:
            split_indices = range(1, len(word) + 1)
        else:
            split_indices = learner_lib.get_split_indices(word, tokens, with_joiner, joiner)
            if not split_indices:
                continue
        start = 0
        for index in split_indices:
            # Every sub-word from `start` on: "##" + word[start:end] after the first piece, as the learner counts.
            tail = (joiner + word[start:]) if with_joiner and start > 0 else word[start:]
            skip = len(tail) - (len(word) - start)
            for length in range(1, len(word) - start + 1):
                subtoken = tail[:skip + length]
                by_length = subtokens[length]
                by_length[subtoken] = by_length.get(subtoken, 0) + count
            start = index
    candidates, discounted = [], []
    for length in range(params.max_token_length, 0, -1):
        for token, count in subtokens[length].items():
            candidates.append(token)
            discounted.append(count)
            if len(token) > length:  # the token holds the joiner
                for i in range(1 + len(joiner), length + len(joiner)):
                    prefixes = subtokens[i - len(joiner)]
                    prefix = token[0:i]
                    if prefix in prefixes:
                        prefixes[prefix] -= count
            else:
                for i in range(1, length):
                    prefixes = subtokens[i]
                    prefix = token[0:i]
                    if prefix in prefixes:
                        prefixes[prefix] -= count
    return candidates, np.array(discounted, dtype=np.int64)
