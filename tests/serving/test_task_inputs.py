"""The request `serve` prints and `predict --text` sends, per task kind (the causal LM's is checked against a served
model in tests/test_e2e_causal_lm.py)."""
import json

from pipeline.config import TASKS
from serving.task_inputs import TASK_INPUTS


def test_every_task_kind_has_a_request():
    assert set(TASK_INPUTS) == set(TASKS)


def test_a_text_only_signature_takes_bare_strings():
    body = json.loads(TASK_INPUTS["token_classification"].curl_body())
    assert body == {"instances": ["Yesterday Zoë flew to São Paulo with José Ruiz."]}


def test_a_causal_lm_row_carries_every_generation_input():
    row = TASK_INPUTS["causal_lm"].instance("ROMEO:")
    assert row == {"prompt": "ROMEO:", "max_new_tokens": 40, "temperature": 0.8, "top_k": 40,
                   "top_p": 1.0, "seed": 1}
    assert json.loads(TASK_INPUTS["causal_lm"].curl_body()) == {"instances": [row]}
