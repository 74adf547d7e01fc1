"""Serving latency and throughput: this server over REST and gRPC, with batching off and on, for 1, 4 and 16
concurrent clients sending one sentence each, against in-process calls of the same SavedModel at batch 1.

    .venv/bin/python bench/serving_latency.py        # trains a tiny model on 400 SST-2 sentences with the real pipeline
    .venv/bin/python bench/serving_latency.py --model_dir <a pushed version directory, e.g. workdir/serving/x/3>

The servers (batching off and on) run in their own processes, as in production; the clients are threads of this
one (serving.client), all on 127.0.0.1; the in-process rows call the loaded signature from as many threads. Each row
is measured in short slices interleaved with every other row's, so load from elsewhere on the machine hits all rows
alike. Ratios are to in-process at 1 client. Every measurement is bounded by --seconds and --max_requests.
Aims: at batch 1 the server adds at most 0.5x to the in-process latency (ratio <= 1.5); with batching, 16 clients
get >= 3x the in-process batch-1 throughput.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from serving.batching import BatchingOptions  # noqa: E402
from bench.sst2_classifier import SST2, read_sst2, write_csv  # noqa: E402

MODEL = "sentiment"
TINY = ["model.preset=tiny", "model.hidden_dim=32", "model.intermediate_dim=64", "tokenizer.vocab_size=200",
        "tokenizer.max_seq_length=16", "training.epochs=2", "training.batch_size=16", "evaluation.min_accuracy=0.0",
        f"serving.model_name={MODEL}", "pipeline_name=serving-latency-bench"]
CLIENTS = (1, 4, 16)


def build_model(workdir: str) -> str:
    """Runs the real pipeline on generated reviews with a tiny model; returns the pushed version's directory."""
    from components.core import config as config_lib
    from pipeline import console, local_runner

    console.setup()
    os.makedirs(workdir, exist_ok=True)
    data = write_csv(os.path.join(workdir, "reviews.csv"), read_sst2("train")[:400])
    _, paths = local_runner.run(config_lib.load(None, TINY + [f"data.input_path={data}"]), workdir)
    model_dir = os.path.join(paths.serving_root, MODEL)
    return os.path.join(model_dir, str(max(int(v) for v in os.listdir(model_dir) if v.isdigit())))


def measure(call_factory, clients: int, seconds: float, max_requests: int, warmup_seconds: float = 0.2):
    """Closed loop: each client thread sends its next request when the last one answered. Returns latencies (s) of
    the requests finished within the window, and the window's length."""
    latencies, lock, start_line = [], threading.Lock(), threading.Barrier(clients + 1)
    state = {"stop": False, "record": False}

    def client():
        call = call_factory()
        mine = []
        start_line.wait()
        while not state["stop"] and len(mine) < max_requests:
            begin = time.perf_counter()
            call()
            if state["record"]:
                mine.append(time.perf_counter() - begin)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    time.sleep(warmup_seconds)
    state["record"] = True
    begin = time.perf_counter()
    time.sleep(seconds)
    state["stop"] = True
    window = time.perf_counter() - begin
    for thread in threads:
        thread.join(60)
    return np.array(latencies), window


def in_process(signature, texts):
    """Calls of the loaded signature, one text each, from the measuring threads themselves."""
    import tensorflow as tf

    def factory():
        counter = iter(range(10 ** 9))

        def call():
            outputs = signature(text=tf.constant([texts[next(counter) % len(texts)]]))
            return {name: tensor.numpy() for name, tensor in outputs.items()}

        return call

    return factory


def client_factory(protocol: str, port: int, texts):
    from serving import client

    def factory():
        connection, counter = client.Client(port=port, protocol=protocol), iter(range(10 ** 9))
        return lambda: connection.predict([texts[next(counter) % len(texts)]], MODEL)

    return factory


class Server:
    """`python -m serving.server` in a child process, stopped with Ctrl-C (SIGINT) as a user would."""

    def __init__(self, serving_root: str, flags):
        self.port, self.grpc_port = _free_port(), _free_port()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "serving.server", f"--serving_root={serving_root}", f"--model_name={MODEL}",
             f"--port={self.port}", f"--grpc_port={self.grpc_port}", *flags],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited with {self._process.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models/{MODEL}/metadata", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("the server did not serve within 180 s")

    def stop(self) -> None:
        self._process.send_signal(2)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", help="a SavedModel version directory (default: train a tiny one)")
    parser.add_argument("--workdir", help="where to train (kept; default: a temporary directory, removed)")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured time per row, over all rounds")
    parser.add_argument("--rounds", type=int, default=8, help="slices each row is measured in, interleaved")
    parser.add_argument("--max_requests", type=int, default=20000, help="per client and slice")
    defaults = BatchingOptions()
    parser.add_argument("--max_batch_size", type=int, default=defaults.max_batch_size)
    parser.add_argument("--batch_timeout_micros", type=int, default=defaults.batch_timeout_micros)
    parser.add_argument("--num_batch_threads", type=int, default=defaults.num_batch_threads)
    parser.add_argument("--intra_op_threads", type=int, default=0,
                        help="TensorFlow's intra-op threads in-process and in the servers alike (0: its choice)")
    args = parser.parse_args()
    if not os.path.isdir(SST2):
        sys.exit(f"SST-2 (the requests' sentences) not found at {SST2}")
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the graph's tokenizer ops)

    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)

    from components import tasks
    from components.core import config as config_lib
    from components.core.warmup import write_warmup_requests

    workdir = args.workdir or tempfile.mkdtemp(prefix="serving-latency-")
    serving_root = tempfile.mkdtemp(prefix="serving-latency-root-")
    servers = {}
    try:
        model_dir = args.model_dir or build_model(workdir)
        print(f"model: {model_dir}", flush=True)
        texts = [text for text, _ in read_sst2("test")[:64]]
        pushed = os.path.join(serving_root, MODEL, "1")
        shutil.copytree(model_dir, pushed)
        # as the trainer's export does: the server replays them on load
        write_warmup_requests(pushed, tasks.request(config_lib.load("classification")), texts[:4])
        signature = tf.saved_model.load(model_dir).signatures["serving_default"]
        threads = [f"--tensorflow_intra_op_parallelism={args.intra_op_threads}"]
        servers["off"] = Server(serving_root, threads)
        servers["on"] = Server(serving_root, threads + [
            "--enable_batching", f"--max_batch_size={args.max_batch_size}",
            f"--batch_timeout_micros={args.batch_timeout_micros}", f"--num_batch_threads={args.num_batch_threads}"])
        rows = {("in-process", "-", "-", clients): in_process(signature, texts) for clients in CLIENTS}
        for mode, server in servers.items():
            for protocol, port in (("rest", server.port), ("grpc", server.grpc_port)):
                rows.update({("server", protocol, mode, clients): client_factory(protocol, port, texts)
                             for clients in CLIENTS})
        results = {row: ([], 0.0) for row in rows}
        for round_number in range(args.rounds):  # a slice of every row per round: background load hits all alike
            for row, factory in rows.items():
                latencies, window = measure(factory, row[3], args.seconds / args.rounds, args.max_requests)
                results[row] = (results[row][0] + list(latencies), results[row][1] + window)
            print(f"  round {round_number + 1}/{args.rounds} done", flush=True)
        print_table(results, args)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(serving_root, ignore_errors=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def print_table(results, args) -> None:
    print(f"\nbatch 1 per request; {args.seconds:g} s per row in {args.rounds} interleaved slices; batching: "
          f"max_batch_size {args.max_batch_size}, batch_timeout_micros {args.batch_timeout_micros}, "
          f"num_batch_threads {args.num_batch_threads}; intra-op threads {args.intra_op_threads or 'auto'}; "
          f"{os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    header = f"{'':10} {'protocol':8} {'batching':8} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} " \
             f"{'p50/in-proc':>11} {'req/s/in-proc':>13}"
    print(header)
    print("-" * len(header))
    baseline = None
    for (where, protocol, mode, clients), (latencies, window) in results.items():
        p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
        throughput = len(latencies) / window
        baseline = baseline or (p50, throughput)  # the first row: in-process, 1 client
        print(f"{where:10} {protocol:8} {mode:8} {clients:7d} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} {throughput:8.0f} "
              f"{p50 / baseline[0]:10.2f}x {throughput / baseline[1]:12.2f}x")


if __name__ == "__main__":
    main()
