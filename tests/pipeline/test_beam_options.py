"""Beam's mode for a local run: chosen by input size, and whichever is chosen, the same Transform output to the byte."""
import glob
import logging
import os

import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.core.errors import UserError
from pipeline import beam_options, local_runner
from tests.generated_data import sentiment_rows, write_csv


def _beam(**values):
    return config_lib.from_dict({"beam": values}).beam


def test_small_inputs_run_in_memory_and_large_ones_on_every_core(tmp_path, monkeypatch):
    data = tmp_path / "reviews.csv"
    data.write_bytes(b"x" * 1000)
    monkeypatch.setattr(beam_options.os, "cpu_count", lambda: 6)
    assert beam_options.local_args(_beam(), [str(data)]) == ["--direct_running_mode=in_memory",
                                                            "--direct_num_workers=1"]
    monkeypatch.setattr(beam_options, "MULTI_PROCESSING_BYTES", 1000)
    assert beam_options.local_args(_beam(), [str(data)]) == ["--direct_running_mode=multi_processing",
                                                            "--direct_num_workers=6"]
    assert beam_options.local_args(_beam(workers=2), [str(data)])[1] == "--direct_num_workers=2"
    monkeypatch.setattr(beam_options.os, "cpu_count", lambda: 2)  # two workers never beat in-memory on 2 cores
    assert beam_options.local_args(_beam(), [str(data)])[0] == "--direct_running_mode=in_memory"
    assert beam_options.local_args(_beam(mode="multi_processing"), [str(data)])[1] == "--direct_num_workers=2"
    assert beam_options.local_args(_beam(mode="in_memory"), [str(data)])[0] == "--direct_running_mode=in_memory"


def test_sizes_count_directories_globs_and_every_span(tmp_path):
    for span, size in ((1, 100), (2, 250)):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "part.csv").write_bytes(b"x" * size)
    assert beam_options.input_bytes([str(tmp_path)]) == 350
    assert beam_options.input_bytes([str(tmp_path / "span-*" / "*.csv")]) == 350
    assert beam_options.input_bytes([str(tmp_path / "span-{SPAN}")]) == 350
    assert beam_options.input_bytes([str(tmp_path / "missing.csv")]) == 0


def test_user_options_replace_the_direct_runners():
    args = _beam(args="--runner=FlinkRunner --flink_master=localhost:8081 --environment_type=LOOPBACK")
    assert beam_options.local_args(args, []) == ["--runner=FlinkRunner", "--flink_master=localhost:8081",
                                                 "--environment_type=LOOPBACK"]


def test_bad_modes_are_config_errors():
    with pytest.raises(UserError, match="beam.mode must be one of"):
        _beam(mode="fast")


def _transform_output(workdir, data, monkeypatch, threshold):
    """The assets' bytes (vocabularies, the compiled WordPiece model) and each split's transformed tf.Examples,
    sorted (workers write shards in any order) and serialized deterministically: a tf.Example's features are a
    protobuf map, whose entries each process writes in its own hash order, so even two in-memory runs differ in
    raw record bytes."""
    monkeypatch.setattr(beam_options, "MULTI_PROCESSING_BYTES", threshold)
    monkeypatch.setattr(beam_options, "MIN_CORES", 1)  # the automatic choice, made on this machine's cores
    config = config_lib.load("classification", [f"data.input_path={data}", "tokenizer.vocab_size=120",
                                                "tokenizer.max_seq_length=16", "pipeline_name=beam-modes"])
    report, _ = local_runner.run(config, str(workdir), until="Transform")
    assert [c.component_id for c in report.components][-1] == "Transform"
    graph, examples = report.outputs["Transform/transform_graph"], report.outputs["Transform/transformed_examples"]
    assets = {}
    for path in glob.glob(os.path.join(graph, "transform_fn", "assets", "*")):
        with open(path, "rb") as f:
            assets[os.path.basename(path)] = f.read()
    splits = {split: sorted(_canonical(record.numpy()) for record in tf.data.TFRecordDataset(
        sorted(glob.glob(os.path.join(examples, f"Split-{split}", "*"))), compression_type="GZIP"))
        for split in ("train", "eval")}
    return assets, splits


def _canonical(record: bytes) -> bytes:
    return tf.train.Example.FromString(record).SerializeToString(deterministic=True)


def test_multi_processing_writes_the_bytes_in_memory_writes(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(300, seed=3))
    in_memory = _transform_output(tmp_path / "in_memory", data, monkeypatch, threshold=2**40)
    multi = _transform_output(tmp_path / "multi", data, monkeypatch, threshold=1)
    assert "direct_running_mode=multi_processing" in caplog.text
    assert features.WORDPIECE_VOCAB in in_memory[0] and multi[0] == in_memory[0]
    assert len(multi[1]["train"]) + len(multi[1]["eval"]) == 300
    assert multi[1] == in_memory[1]
