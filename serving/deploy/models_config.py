"""Renders TF Serving's models.config with version labels from the versions the Pusher wrote.

    python -m serving.deploy.models_config --serving_root=workdir/serving > serving/deploy/models.config

TF Serving assigns a label only to a version it has loaded, so labels must name versions that exist: `stable` is the
newest pushed version, `previous` the one before it (clients can fall back to /v1/models/<name>/labels/previous).
The policy pins exactly those two; a rewritten file is picked up within --model_config_file_poll_wait_seconds.
"""
import argparse
import os
from typing import List, Sequence

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components.core.config import ServingConfig


def render(model_name: str, base_path: str, versions: Sequence[int]) -> str:
    if not versions:
        raise ValueError(f"no pushed versions of {model_name!r} to label")
    newest = sorted(versions)[-2:]
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add(name=model_name, base_path=base_path, model_platform="tensorflow")
    model.model_version_policy.specific.versions.extend(newest)
    model.version_labels["stable"] = newest[-1]
    if len(newest) == 2:
        model.version_labels["previous"] = newest[0]
    return text_format.MessageToString(config)


def pushed_versions(model_dir: str) -> List[int]:
    return sorted(int(v) for v in os.listdir(model_dir) if v.isdigit()) if os.path.isdir(model_dir) else []


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serving_root", required=True, help="the Pusher's serving root (workdir/serving)")
    parser.add_argument("--model_name", default=ServingConfig.model_name)
    parser.add_argument("--base_path", help="the model directory as TF Serving sees it (default /models/<model_name>)")
    args = parser.parse_args(argv)
    model_dir = os.path.join(args.serving_root, args.model_name)
    try:
        print(render(args.model_name, args.base_path or f"/models/{args.model_name}", pushed_versions(model_dir)),
              end="")
    except ValueError as e:
        parser.error(f"{e} under {model_dir}")


if __name__ == "__main__":
    main()
