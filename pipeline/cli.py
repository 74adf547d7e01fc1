"""Command line: `run` the pipeline, `serve` the pushed models, or `demo` (run, then serve); `schedule` retraining on
new spans and see its `status`; rewrite a past run's HTML `report`; `compile` the pipeline for Kubeflow.

    python -m pipeline.cli demo
    python -m pipeline.cli run --config=my.yaml --set training.epochs=5 --set data.input_path=reviews.csv
    python -m pipeline.cli serve --workdir=workdir
    python -m pipeline.cli schedule --set 'data.input_path=data/span-{SPAN}' --set 'schedule.cron=0 3 * * *'
    python -m pipeline.cli status --set 'data.input_path=data/span-{SPAN}'
    python -m pipeline.cli report --run=2026-11-30T03:00:00.123456   # default: the latest run
    python -m pipeline.cli compile --num_classes=2 --kfp_image=... --kfp_pipeline_root=gs://... (see BUILD.md)
"""
import errno
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up noise (CUDA probes on CPU machines)

from absl import app, flags, logging  # noqa: E402

from components import tasks  # noqa: E402
from components.core import config as config_lib  # noqa: E402
from components.core.errors import UserError  # noqa: E402
from components.core.layout import Workdir  # noqa: E402
from pipeline import console  # noqa: E402

DEFAULT_PRESET = "classification"  # a task kind's name stands for the preset it ships
COMMANDS = ("run", "serve", "demo", "predict", "schedule", "status", "report", "compile")

flags.DEFINE_string("config", DEFAULT_PRESET, "YAML preset with the pipeline's config, or a task kind ("
                    "classification, token_classification, masked_lm, causal_lm, translation) for the preset it ships.")
flags.DEFINE_multi_string("set", [], "Override one config key: --set section.key=value (repeatable).")
flags.DEFINE_string("workdir", "workdir", "Where runs write metadata, artifacts and pushed models.")
flags.DEFINE_multi_string(
    "text", [], "predict: a raw text to send (repeatable); a causal LM takes it as the prompt and samples with "
    "components/tasks/causal_lm GENERATION (40 new pieces, temperature 0.8, top_k 40, seed 1); a translator takes "
    "it as the source and decodes with the settings it was exported with (decoding.*).")
flags.DEFINE_multi_string(
    "text_pair", [], "predict: the second text of a sentence pair, one per --text, in order (a classifier trained "
    "with data.text_pair_column), e.g. --text=\"premise\" --text_pair=\"hypothesis\".")
flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "predict: which of the server's APIs to call.")
flags.DEFINE_string("run", None, "report: the run (its id, as `status` lists them) whose report to rewrite; "
                    "default: the latest run.")
flags.DEFINE_integer("max_runs", None, "schedule: stop after this many cron firings (default: never).")
flags.DEFINE_integer("num_classes", 0, "compile: the number of labels (2 picks AUC, more picks macro-F1).")
flags.DEFINE_string("kfp_output_dir", "kubeflow", "compile: where the pipeline and recurring-run JSON are written.")
flags.DEFINE_string("kfp_image", "", "compile: the trainer image (serving/deploy/Dockerfile.trainer).")
flags.DEFINE_string("kfp_pipeline_root", "", "compile: pipeline root URI, e.g. gs://bucket/tfx.")
flags.DEFINE_string("kfp_serving_root", "", "compile: where the Pusher writes, e.g. gs://bucket/serving.")
flags.DEFINE_string("dataflow_project", "", "compile: Google Cloud project for Dataflow.")
flags.DEFINE_string("dataflow_region", "", "compile: Dataflow region, e.g. europe-west1.")
flags.DEFINE_string("dataflow_temp_location", "", "compile: Dataflow scratch URI, e.g. gs://bucket/tmp.")
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
    if argv[1] == "predict":
        _predict(config)
    if argv[1] == "schedule":
        _schedule(config)
    if argv[1] == "status":
        _status(config)
    if argv[1] == "report":
        _report(config)
    if argv[1] == "compile":
        _compile(config)


def _run(config):
    from pipeline import local_runner  # heavy imports only for the commands that need them

    report, _ = local_runner.run(config, FLAGS.workdir)
    _print_summary(config, report)


def _schedule(config):
    from pipeline import schedule

    def show(firing):
        span = f" (span {firing.span})" if firing.span is not None else ""
        print(f"{firing.at.isoformat()}: {firing.outcome}{span}", flush=True)
        if firing.report:
            _print_summary(config, firing.report)

    schedule.run(config, FLAGS.workdir, max_runs=FLAGS.max_runs, on_firing=show)


def _print_summary(config, report):
    from pipeline.report import summary

    path = Workdir(FLAGS.workdir).report_path(report.run_id)
    print("\n".join(summary.lines(report, tasks.get(config.task).headline, path if os.path.exists(path) else None)),
          flush=True)


def _status(config):
    from pipeline import status

    print("\n".join(status.lines(config, FLAGS.workdir)), flush=True)


def _report(config):
    from pipeline.report import build

    print(f"wrote {build.write(config, FLAGS.workdir, build.find_run(config, FLAGS.workdir, FLAGS.run))}", flush=True)


def _compile(config):
    from pipeline import kubeflow_runner

    missing = [f"--{name}" for name in ("kfp_image", "kfp_pipeline_root", "kfp_serving_root", "dataflow_project",
                                        "dataflow_region", "dataflow_temp_location") if not getattr(FLAGS, name)]
    if missing:
        raise UserError(f"compile needs {', '.join(missing)}", hint="see BUILD.md, section Kubeflow")
    target = kubeflow_runner.KubeflowTarget(
        pipeline_root=FLAGS.kfp_pipeline_root, serving_root=FLAGS.kfp_serving_root, image=FLAGS.kfp_image,
        project=FLAGS.dataflow_project, region=FLAGS.dataflow_region, temp_location=FLAGS.dataflow_temp_location)
    for path in kubeflow_runner.compile_pipeline(config, target, FLAGS.num_classes, FLAGS.kfp_output_dir):
        print(f"wrote {path}", flush=True)


def _serve(config):
    from serving import server

    serving = config.serving
    model_dir = Workdir(FLAGS.workdir).model_dir(serving.model_name)
    if not os.path.isdir(model_dir):
        raise UserError(f"no pushed model under {model_dir}", hint="run `python -m pipeline.cli run` first")
    url = f"http://{serving.host}:{serving.port}/v1/models/{serving.model_name}"
    body = tasks.request(config).curl_body()
    print(f"\nServing {model_dir} at {url} (TF Serving REST API). Try:\n"
          f"  curl -s -X POST {url}:predict -d '{body}'\n", flush=True)
    batching = server.BatchingOptions(max_batch_size=serving.max_batch_size,
                                      batch_timeout_micros=serving.batch_timeout_micros) if serving.batching else None
    limits = server.ServingLimits(max_rows_per_request=serving.max_rows_per_request,
                                  max_connections=serving.max_connections,
                                  request_timeout_seconds=serving.request_timeout_seconds,
                                  drain_seconds=serving.drain_seconds)
    try:
        server.serve(os.path.dirname(model_dir), serving.model_name, serving.host, serving.port,
                     grpc_port=serving.grpc_port or None, batching=batching, limits=limits)
    except OSError as e:  # binding failed: it names the protocol and the address
        raise UserError(f"could not start the server: {e.strerror or e}", hint=_bind_hint(e)) from None


def _bind_hint(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return ("another process listens on that port: stop it, or pick free ports with "
                "--set serving.port=... --set serving.grpc_port=...")
    if error.errno == errno.EACCES:
        return "ports below 1024 need privileges: pick another with --set serving.port=..."
    return "serving.host must be a name or address of this machine, e.g. --set serving.host=127.0.0.1 (0.0.0.0: all)"


def _predict(config):
    from pipeline import predict

    print("\n".join(predict.lines(config, FLAGS.text, FLAGS.text_pair, FLAGS.protocol)), flush=True)


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
