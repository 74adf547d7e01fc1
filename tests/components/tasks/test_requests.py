"""The request `serve` prints and `predict --text` sends, per task kind and config (the causal LM's is checked
against a served model in tests/e2e/test_causal_lm.py, the sentence pair's in classification/test_pairs.py)."""
import json

import pytest

from components import tasks
from components.core import config as config_lib
from components.core.config import TASKS
from components.core.errors import UserError

PAIRS = config_lib.load("classification", ["data.text_pair_column=hypothesis"])


@pytest.mark.parametrize("kind", TASKS)
def test_every_task_kind_has_a_request_and_its_registry_entry_shares_it(kind):
    config = config_lib.load(kind)
    assert tasks.request(config) == tasks.get(kind).request(config)
    assert json.loads(tasks.request(config).curl_body())["instances"]


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="classification"):
        tasks.get("translation_typo")


def test_a_text_only_signature_takes_bare_strings():
    body = json.loads(tasks.request(config_lib.load("token_classification")).curl_body())
    assert body == {"instances": ["Yesterday Zoë flew to São Paulo with José Ruiz."]}


def test_a_causal_lm_row_carries_every_generation_input():
    request = tasks.request(config_lib.load("causal_lm"))
    rows = request.instances(["ROMEO:"])
    assert rows == [{"prompt": "ROMEO:", "max_new_tokens": 40, "temperature": 0.8, "top_k": 40, "top_p": 1.0,
                     "seed": 1}]
    assert json.loads(request.curl_body()) == {"instances": rows}


def test_a_sentence_pair_classifier_takes_two_named_texts_per_row():
    request = tasks.request(PAIRS)
    assert json.loads(request.curl_body()) == {"instances": [
        {"text": "A man is playing a guitar on stage.", "text_pair": "Someone is making music."}]}
    assert request.instances(["a", "b"], ["c", "d"]) == [{"text": "a", "text_pair": "c"},
                                                         {"text": "b", "text_pair": "d"}]
    protos = request.inputs(["a", "b"], ["c", "d"])
    assert {name: list(proto.string_val) for name, proto in protos.items()} == {
        "text": [b"a", b"b"], "text_pair": [b"c", b"d"]}


@pytest.mark.parametrize("config, texts, pairs, fragment", [
    (PAIRS, ["a", "b"], None, "one text_pair per text (got 2 texts and 0 text_pairs)"),
    (PAIRS, ["a", "b"], ["c"], "(got 2 texts and 1 text_pairs)"),
    (config_lib.load("classification"), ["a"], ["c"], "takes single texts, not sentence pairs"),
])
def test_texts_and_pairs_that_do_not_match_the_model_are_refused(config, texts, pairs, fragment):
    with pytest.raises(UserError) as error:
        tasks.request(config).instances(texts, pairs)
    assert fragment in str(error.value)
