"""Command line: `run` the pipeline, `serve` the pushed models, or `demo` (run, then serve).

    python -m pipeline.cli demo
    python -m pipeline.cli run --config=my.yaml --set training.epochs=5 --set data.input_path=reviews.csv
    python -m pipeline.cli serve --workdir=workdir
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up noise (CUDA probes on CPU machines)

from absl import app, flags, logging  # noqa: E402

from pipeline import config as config_lib  # noqa: E402
from pipeline import console  # noqa: E402
from pipeline.errors import UserError  # noqa: E402

DEFAULT_PRESET = os.path.join(os.path.dirname(__file__), "presets", "classification.yaml")
COMMANDS = ("run", "serve", "demo")

flags.DEFINE_string("config", DEFAULT_PRESET, "YAML preset with the pipeline's config.")
flags.DEFINE_multi_string("set", [], "Override one config key: --set section.key=value (repeatable).")
flags.DEFINE_string("workdir", "workdir", "Where runs write metadata, artifacts and pushed models.")
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        raise UserError(f"expected one command, one of {', '.join(COMMANDS)}; got {argv[1:]}",
                        hint="python -m pipeline.cli demo")
    console.setup()
    config = config_lib.load(FLAGS.config, FLAGS.set)
    if argv[1] in ("run", "demo"):
        _run(config)
    if argv[1] in ("serve", "demo"):
        _serve(config)


def _run(config):
    from pipeline import local_runner  # heavy imports only for the commands that need them

    report, _ = local_runner.run(config, FLAGS.workdir)
    print("\n".join(report.lines()), flush=True)


def _serve(config):
    from serving import server

    serving = config.serving
    model_dir = os.path.join(os.path.abspath(FLAGS.workdir), "serving", serving.model_name)
    if not os.path.isdir(model_dir):
        raise UserError(f"no pushed model under {model_dir}", hint="run `python -m pipeline.cli run` first")
    url = f"http://{serving.host}:{serving.port}/v1/models/{serving.model_name}"
    print(f"\nServing {model_dir} at {url} (TF Serving REST API). Try:\n"
          f"  curl -s -X POST {url}:predict -d '{{\"instances\": [\"a gripping, beautifully acted film\"]}}'\n",
          flush=True)
    server.serve(os.path.dirname(model_dir), serving.model_name, serving.host, serving.port)


def _user_error(exc: BaseException):
    """The UserError behind an exception, if any: TFX and Beam may wrap what our code raised."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def run():
    try:
        app.run(main)
    except Exception as exc:  # noqa: BLE001  (bad input must read as a message, not a traceback)
        error = _user_error(exc)
        if error is None:
            raise
        logging.flush()
        print(f"error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
