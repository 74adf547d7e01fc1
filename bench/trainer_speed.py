"""Trainer throughput: tokens/s and MFU of our training step for each model preset and speed switch, and side by side
in one run with Hugging Face transformers + PyTorch on the same BERT-small MLM step (L4 d256 ff1024, vocab 8192,
seq 128, batch 32, AdamW, clipping at 1.0).

    make bench-speed            # sets up the peer's venv (.bench-venv) when missing
    .venv/bin/python bench/trainer_speed.py [--rounds 8] [--presets tiny,small] [--skip-switches] [--skip-hf]

The machine is shared, so ours and the peer run in alternating timed windows (steps only, set-up excluded on both
sides), each window records the cores its process used, and each figure is the best window (as `timeit` takes the
minimum: noise only ever slows) with the median beside it. MFU is the model's training FLOPs (bench/speed_model.py)
over the best matmul rate measured here (float32, or bfloat16 for mixed_bfloat16 runs), so it says how much of this
CPU's reachable peak a step uses.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402

import input_speed  # noqa: E402
from speed_model import Shape, Switches, Trainer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_PYTHON = os.path.join(ROOT, ".bench-venv", "bin", "python")
SWITCHES = {  # each alone against the preset's baseline; "best" is what the HF comparison runs
    "baseline": Switches(),
    "jit_compile": Switches(jit_compile=True),
    "steps_per_execution=4": Switches(steps_per_execution=4),
    "mixed_bfloat16": Switches(precision="mixed_bfloat16"),
    "mixed_float16": Switches(precision="mixed_float16"),
    "accumulation 4 x 8": Switches(accumulation=4),
}
WINDOW_STEPS = {"tiny": 8, "small": 4, "base": 1}  # equal within a preset: losses compare


def matmul_ceiling(dtype, n: int = 2048, repeats: int = 10) -> float:
    """Best FLOP/s of an n x n matmul in TF: the reachable peak that MFU is measured against (a busy machine makes
    it low, so main() measures it before and after the runs and keeps the best)."""
    a = tf.random.normal((n, n), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).numpy()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - start))
    return best


class Peer:
    """The HF process: builds its model once, then trains N steps per 'run N' line."""

    def __init__(self, shape: Shape, masked_only: bool, python: str):
        args = [python, os.path.join(ROOT, "bench", "hf_peer.py"), "--layers", shape.layers, "--hidden", shape.hidden,
                "--heads", shape.heads, "--ff", shape.ff, "--vocab", shape.vocab, "--seq", shape.seq,
                "--batch", shape.batch, "--predictions", shape.predictions] + (["--masked-only"] if masked_only else [])
        self.process = subprocess.Popen([str(a) for a in args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=dict(os.environ, OMP_NUM_THREADS="2"))
        self.info = json.loads(self.process.stdout.readline())

    def run(self, steps: int) -> tuple:
        """(seconds, cores used) of `steps` training steps."""
        self.process.stdin.write(f"run {steps}\n")
        self.process.stdin.flush()
        window = json.loads(self.process.stdout.readline())
        return window["seconds"], window["cpu_seconds"] / window["seconds"]

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)


def side_by_side(shape: Shape, ours: Switches, rounds: int, steps: int, peer_python: str, ceilings: dict) -> list:
    """Alternating windows of ours (`ours`, and the baseline switches when they differ), HF, and HF with a
    masked-only head; rows of (name, best tok/s, median tok/s, MFU at best, [(tok/s, cores) per window]), ours first
    and the two HF rows last."""
    variants = [ours] if ours == Switches() else [ours, Switches()]
    masked = shape.predictions / shape.seq  # the share of tokens whose MLM logits are computed
    contenders = {f"ours ({v.describe()})": (Trainer(shape, v), masked, v.precision) for v in variants}
    contenders["HF BertForMaskedLM + torch AdamW"] = (Peer(shape, False, peer_python), 1.0, "float32")
    contenders["HF, MLM head on masked positions only"] = (Peer(shape, True, peer_python), masked, "float32")
    windows = {name: [] for name in contenders}
    for runner, _, _ in contenders.values():
        runner.run(steps)  # warm-up: tracing, first allocations
    for _ in range(rounds):
        for name, (runner, _, _) in contenders.items():
            seconds, cores = runner.run(steps)
            windows[name].append((steps * shape.batch * shape.seq / seconds, cores))
    for runner, _, _ in contenders.values():
        if isinstance(runner, Peer):
            runner.close()
    rows = []
    for name, (_, fraction, precision) in contenders.items():
        rates = [rate for rate, _ in windows[name]]
        mfu = max(rates) * shape.train_flops_per_token(fraction) / _peak(ceilings, precision)
        rows.append((name, max(rates), statistics.median(rates), mfu, windows[name]))
    return rows


def switch_table(presets, rounds: int, ceilings: dict):
    """Yields (preset, switch, best tok/s, MFU, vs baseline, loss after) per switch; a preset's switches run in
    alternating windows, as the HF comparison does, so a busy spell slows them all alike."""
    for preset in presets:
        shape = Shape.preset(preset)
        steps = WINDOW_STEPS[preset]
        trainers = {name: Trainer(shape, switches) for name, switches in SWITCHES.items()
                    # no float16 matmul units on this CPU (Eigen fallback): minutes per window at small
                    if switches.precision != "mixed_float16" or preset == "tiny"}
        windows = {name: max(steps, trainer.switches.steps_per_execution) for name, trainer in trainers.items()}
        rates = {name: [] for name in trainers}
        for name, trainer in trainers.items():
            trainer.run(windows[name])  # warm-up: tracing, first allocations
        for _ in range(rounds):
            for name, trainer in trainers.items():
                rates[name].append(windows[name] * trainer.tokens_per_step / trainer.run(windows[name])[0])
        baseline = max(rates["baseline"])
        for name, trainer in trainers.items():
            rate = max(rates[name])
            flops = rate * shape.train_flops_per_token(shape.predictions / shape.seq)
            yield (preset, name, rate, flops / _peak(ceilings, trainer.switches.precision), rate / baseline,
                   trainer.final_loss())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--presets", default="tiny,small")
    parser.add_argument("--best", default="baseline", choices=sorted(SWITCHES), help="our switches in the HF run")
    parser.add_argument("--skip-switches", action="store_true")
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    args = parser.parse_args()
    ceilings = _ceilings({})

    if not args.skip_hf:
        if not os.path.exists(args.peer_python):
            sys.exit(f"no peer venv at {args.peer_python}: run `make bench-speed` (it creates .bench-venv)")
        shape = Shape.preset("small")
        print(f"\nBERT-small MLM train step, batch {shape.batch} x seq {shape.seq}, {args.rounds} "
              f"alternating windows of {WINDOW_STEPS['small']} steps", flush=True)
        rows = side_by_side(shape, SWITCHES[args.best], args.rounds, WINDOW_STEPS["small"], args.peer_python,
                            _ceilings(ceilings))
        print(f"{'':54} {'best':>6} {'median':>6} {'MFU':>6}  windows (tok/s @ cores used)")
        for name, best, median, mfu, samples in rows:
            print(f"{name:54} {best:6.0f} {median:6.0f} {mfu:6.1%}  "
                  f"{' '.join(f'{rate:.0f}@{cores:.1f}' for rate, cores in samples)}")
        print(f"ratio ours / HF, best windows: {rows[0][1] / rows[-2][1]:.2f}x (medians {rows[0][2] / rows[-2][2]:.2f}x); "
              f"ours / HF with a masked-only head: {rows[0][1] / rows[-1][1]:.2f}x "
              f"(medians {rows[0][2] / rows[-1][2]:.2f}x)", flush=True)

    if not args.skip_switches:
        print(f"\nspeed switches, batch 32 x seq 128 MLM (best of {args.rounds} windows)")
        print(f"{'preset':7} {'switch':24} {'tok/s':>8} {'MFU':>6} {'vs base':>8} {'loss after':>10}")
        for preset, name, rate, mfu, speedup, loss in switch_table(args.presets.split(","), args.rounds,
                                                                   _ceilings(ceilings)):
            print(f"{preset:7} {name:24} {rate:8.0f} {mfu:6.1%} {speedup:7.2f}x {loss:10.3f}", flush=True)
        print("\ntf.data input (examples/s, 2 cores; a model at R tok/s consumes R / 128 examples/s):")
        for name, rate in input_speed.measure().items():
            print(f"  {name:38} {rate:9.0f}")


def _peak(ceilings: dict, precision: str) -> float:
    return ceilings["mixed_bfloat16" if precision == "mixed_bfloat16" else "float32"]


def _ceilings(before: dict) -> dict:
    now = {"float32": matmul_ceiling(tf.float32), "mixed_bfloat16": matmul_ceiling(tf.bfloat16)}
    best = {k: max(v, before.get(k, 0.0)) for k, v in now.items()}
    print(f"matmul ceiling (best so far): float32 {best['float32'] / 1e9:.0f} GFLOP/s, "
          f"bfloat16 {best['mixed_bfloat16'] / 1e9:.0f} GFLOP/s; TF {tf.__version__}", flush=True)
    return best


if __name__ == "__main__":
    main()
