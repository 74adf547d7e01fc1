"""`predict`: texts (with their second texts, for a sentence-pair model) to the served model over REST or gRPC;
one JSON line per text, non-ASCII text (Chinese, accents) printed as is rather than \\u-escaped."""
import json
from typing import List, Sequence

import grpc

from components import tasks
from components.core.config import Config
from components.core.errors import UserError
from components.core.warmup import TEXT_PAIR
from serving import client


def lines(config: Config, texts: Sequence[str], pairs: Sequence[str], protocol: str) -> List[str]:
    """`pairs`: empty, or one second text per text (what `--text_pair` collects)."""
    serving, task_input = config.serving, tasks.request(config)
    if not texts:
        example = f'--text="{task_input.example}"'
        raise UserError("predict needs at least one --text", hint=example + (
            f' --text_pair="{task_input.pair_example}"' if task_input.takes_pairs else ""))
    port = serving.grpc_port if protocol == "grpc" else serving.port
    try:
        results = client.predict(texts, serving.model_name, host=serving.host, port=port, protocol=protocol,
                                 task_input=task_input, pairs=list(pairs) or None)
    except client.PredictError as e:
        raise UserError(f"the server refused the request: {e}") from None
    except (OSError, grpc.RpcError) as e:
        raise UserError(f"no server answered at {serving.host}:{port} ({e})",
                        hint="start one with `python -m pipeline.cli serve`") from None
    shown = []
    for i, (text, result) in enumerate(zip(texts, results)):
        row = {task_input.name: text, **({TEXT_PAIR: pairs[i]} if pairs else {})}
        row.update(result if isinstance(result, dict) else {"prediction": result})  # one output comes bare
        shown.append(json.dumps(row, ensure_ascii=False))
    return shown
