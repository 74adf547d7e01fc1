"""The data view, from what the components wrote: StatisticsGen's statistics per split (examples, and the value
counts of the label or tag feature), Transform's post-transform statistics (word pieces per example before
truncation, and how many max_seq_length cut), and the anomalies ExampleValidator and Transform found."""
import dataclasses
import glob
import os
from typing import Dict, List, Optional, Tuple

import tensorflow_data_validation as tfdv
from tensorflow_data_validation.utils import anomalies_util
from tensorflow_metadata.proto.v0 import statistics_pb2

from components.core import features
from pipeline.report import html, plots

SPLIT_PREFIX = "Split-"  # TFX writes one directory per split under a split-aware artifact
STATS_FILE, ANOMALIES_FILE = "FeatureStats.pb", "SchemaDiff.pb"


@dataclasses.dataclass(frozen=True)
class Lengths:
    """Word pieces per example (all splits together, as Transform's post-transform statistics count them)."""
    buckets: List[Tuple[float, float, float]]  # (low, high, examples): TFDV's equal-width histogram
    mean: float
    median: Optional[float]
    max: float
    examples: int
    cut: Optional[int]  # examples truncation cut; None: this kind's Transform cuts nothing
    pieces_cut_share: Optional[float]  # share of all word pieces that were cut


@dataclasses.dataclass(frozen=True)
class DataView:
    examples: Dict[str, int]  # split -> examples (rows, sentences or documents, as the input format makes them)
    label_feature: Optional[str]  # the raw feature holding labels or tags (None: a corpus without labels)
    labels: Dict[str, List[Tuple[str, float]]]  # split -> (label, count), most frequent first
    lengths: Optional[Lengths]
    anomalies: List[str]  # "<where>: <feature>: <what>", empty when none was found


def read(outputs: Dict[str, str], label_feature: Optional[str]) -> DataView:
    """From a run's output URIs by "<component>/<key>" (run_report.RunReport); `label_feature` as the input format
    names it (components/text/readers)."""
    stats = {split: tfdv.load_stats_binary(path).datasets[0]
             for split, path in _split_files(outputs.get("StatisticsGen/statistics"), STATS_FILE).items()}
    labels = {split: _value_counts(dataset, label_feature) for split, dataset in stats.items()} if label_feature else {}
    post = outputs.get("Transform/post_transform_stats")
    post_path = os.path.join(post, STATS_FILE) if post else ""
    lengths = _lengths(tfdv.load_stats_binary(post_path).datasets[0]) if os.path.isfile(post_path) else None
    return DataView({split: int(d.num_examples) for split, d in stats.items()}, label_feature, labels, lengths,
                    _anomalies(outputs))


def _split_files(uri: Optional[str], name: str) -> Dict[str, str]:
    if not uri:
        return {}
    found = sorted(glob.glob(os.path.join(uri, SPLIT_PREFIX + "*", name)))
    return {os.path.basename(os.path.dirname(path))[len(SPLIT_PREFIX):]: path for path in found}


def _feature(dataset, name: str):
    return next((f for f in dataset.features if list(f.path.step) == [name]), None)


def _value_counts(dataset, name: str) -> List[Tuple[str, float]]:
    feature = _feature(dataset, name)
    if feature is None or not feature.HasField("string_stats"):
        return []
    return [(b.label, b.sample_count) for b in feature.string_stats.rank_histogram.buckets]


def _lengths(dataset) -> Optional[Lengths]:
    pieces, cut = _feature(dataset, features.NUM_PIECES), _feature(dataset, features.CUT_PIECES)
    if pieces is None:
        return None
    stats = pieces.num_stats
    histograms = {h.type: h for h in stats.histograms}
    standard = histograms.get(statistics_pb2.Histogram.STANDARD)
    quantiles = histograms.get(statistics_pb2.Histogram.QUANTILES)
    median = quantiles.buckets[len(quantiles.buckets) // 2].low_value if quantiles and quantiles.buckets else None
    examples = int(stats.common_stats.num_non_missing)
    cut_examples = pieces_cut = None
    if cut is not None:
        cut_examples = int(cut.num_stats.common_stats.num_non_missing - cut.num_stats.num_zeros)
        pieces_cut = cut.num_stats.mean / stats.mean if stats.mean else None
    return Lengths([(b.low_value, b.high_value, b.sample_count) for b in standard.buckets] if standard else [],
                   stats.mean, median, stats.max, examples, cut_examples, pieces_cut)


def _anomalies(outputs: Dict[str, str]) -> List[str]:
    found = {f"ExampleValidator, {split} split": path
             for split, path in _split_files(outputs.get("ExampleValidator/anomalies"), ANOMALIES_FILE).items()}
    post = outputs.get("Transform/post_transform_anomalies")
    if post and os.path.isfile(os.path.join(post, ANOMALIES_FILE)):
        found["Transform, transformed features"] = os.path.join(post, ANOMALIES_FILE)
    lines = []
    for where, path in found.items():
        anomalies = anomalies_util.load_anomalies_binary(path)
        for feature, info in sorted(anomalies.anomaly_info.items()):
            lines.append(f"{where}: {feature}: {info.description or info.short_description}")
        if anomalies.HasField("dataset_anomaly_info"):
            lines.append(f"{where}: the dataset: {anomalies.dataset_anomaly_info.description}")
    return lines


def render(view: DataView) -> List[str]:
    """The data section's blocks."""
    blocks = [html.table(["split", "examples"], [[html.cell(split), html.cell(f"{n:,}", n, split=split)]
                                                  for split, n in sorted(view.examples.items())])]
    if view.label_feature and view.labels:
        name, splits = view.label_feature, sorted(view.labels, key=lambda split: (split != "train", split))
        counts = {split: dict(view.labels[split]) for split in splits}
        values = sorted({v for c in counts.values() for v in c}, key=lambda v: (-sum(c.get(v, 0) for c in
                                                                                  counts.values()), v))
        rows = [[html.cell(value)] + [html.cell(f"{counts[s].get(value, 0):,.0f}", counts[s].get(value, 0.0),
                                                split=s, label=value) for s in splits] for value in values]
        blocks += [html.heading(f"{name}: distribution per split (StatisticsGen)"),
                   html.table([name] + splits, rows),
                   html.images([(f"{name} per split", plots.value_counts(name, {s: view.labels[s] for s in splits}))])]
    blocks.append(html.heading("length in word pieces (Transform's post-transform statistics, all splits)"))
    lengths = view.lengths
    if lengths is None:
        blocks.append(html.paragraph("Transform recorded no word-piece counts for this run.", "muted"))
    else:
        median = "-" if lengths.median is None else f"{lengths.median:.0f}"
        cut = ("nothing cut: this task kind's Transform keeps every piece" if lengths.cut is None else
               f"cut by max_seq_length: {lengths.cut:,} of {lengths.examples:,} examples "
               f"({lengths.cut / max(lengths.examples, 1):.2%}), {lengths.pieces_cut_share or 0:.2%} of all pieces")
        blocks.append(html.paragraph(f"mean {lengths.mean:.1f}, median {median}, max {lengths.max:.0f} pieces; {cut}"))
        if lengths.buckets:
            blocks.append(html.images([("word pieces per example", plots.histogram(
                "word pieces per example", lengths.buckets, "word pieces (before truncation)"))]))
    blocks.append(html.heading("anomalies (ExampleValidator, Transform)"))
    blocks.append(html.code("\n".join(view.anomalies)) if view.anomalies else html.paragraph("none found"))
    return blocks
