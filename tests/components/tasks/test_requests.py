"""The request `serve` prints and `predict --text` sends, per task kind (the causal LM's is checked against a served
model in tests/e2e/test_causal_lm.py)."""
import json

import pytest

from components import tasks
from components.core.config import TASKS


@pytest.mark.parametrize("kind", TASKS)
def test_every_task_kind_has_a_request_and_its_registry_entry_shares_it(kind):
    assert tasks.request(kind) is tasks.get(kind).request
    assert json.loads(tasks.request(kind).curl_body())["instances"]


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="classification"):
        tasks.get("translation_typo")


def test_a_text_only_signature_takes_bare_strings():
    body = json.loads(tasks.request("token_classification").curl_body())
    assert body == {"instances": ["Yesterday Zoë flew to São Paulo with José Ruiz."]}


def test_a_causal_lm_row_carries_every_generation_input():
    request = tasks.request("causal_lm")
    row = request.instance("ROMEO:")
    assert row == {"prompt": "ROMEO:", "max_new_tokens": 40, "temperature": 0.8, "top_k": 40,
                   "top_p": 1.0, "seed": 1}
    assert json.loads(request.curl_body()) == {"instances": [row]}
