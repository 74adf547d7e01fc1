"""The run summary printed at the end of `run`, `demo` and each schedule firing: what ran, the metrics that decided
the blessing (the candidate beside the baseline, with the thresholds TFMA checked), where the report is, and how to
open the training curves in TensorBoard."""
import os
import sys
from typing import List, Optional

from components.nn.metrics.headline import Headline
from pipeline.report import evaluation as evaluation_lib
from pipeline.run_report import RunReport

MODEL_RUN = "Trainer/model_run"  # the Trainer's TensorBoard log directory, by run_report's "<component>/<key>"


def lines(run: RunReport, headline: Headline, report_path: Optional[str]) -> List[str]:
    out = run.lines()
    evaluation = evaluation_lib.read(run.evaluation_uri)
    if evaluation is not None:
        shown = [evaluation.get(headline.name)] + [m for m in evaluation.gated() if m.name != headline.name]
        out[-1:-1] = [metric_line(m, run.blessed, evaluation.has_baseline) for m in shown if m is not None]
    if report_path:
        out.append(f"  report: {report_path}")
    if run.outputs.get(MODEL_RUN):
        out.append(f"  TensorBoard: {tensorboard_command(run.outputs[MODEL_RUN])}")
    return out


def metric_line(metric: evaluation_lib.Metric, blessed: Optional[bool], has_baseline: bool) -> str:
    """e.g. `accuracy 0.795 (baseline 0.781, needs >= 0.6 and >= baseline - 0.02) -> BLESSED`."""
    number = evaluation_lib.number
    context = [f"baseline {number(metric.baseline)}" if has_baseline else "no baseline yet"]
    context.append(f"needs {metric.needs}" if metric.needs else "reported only")
    outcome = ("NOT blessed: fails" if metric.failed else "BLESSED" if blessed else "passes") if metric.needs else ""
    return f"  {metric.label} {number(metric.candidate)} ({', '.join(context)})" + (f" -> {outcome}" if outcome else "")


def tensorboard_command(log_dir: str) -> str:
    """TensorBoard comes with TensorFlow: the one beside this Python when it is there."""
    beside = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    return f"{beside if os.path.exists(beside) else 'tensorboard'} --logdir {log_dir}"
