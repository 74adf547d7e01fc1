"""What TF Serving 2.16 needs from us: a model it can load and files it accepts (serving/deploy/).

The model is a tiny classifier exported through the Trainer's own path (Transform's preprocessing_fn through real
Beam, the task's export). The config files are parsed with TF Serving's protos; the manifests with a YAML parser.
"""
import importlib.metadata
import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, wrappers_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.config import model_server_config_pb2

from components.core import config as config_lib
from serving.deploy import models_config
from tests import ROOT
from tests.generated_data import sentiment_rows

DEPLOY = os.path.join(ROOT, "serving", "deploy")
MODEL_NAME = config_lib.Config().serving.model_name
SERVING_IMAGE = re.compile(r"tensorflow/serving:(\d+)\.(\d+)\.(\d+)")

# Every op tensorflow-text 2.16.1 registers, i.e. what TF Serving 2.16 links (tensorflow_text:ops_lib). Graph ops
# outside TF's core set must be in here; a newer tf-text op would load locally and fail in TF Serving.
TF_TEXT_2_16_OPS = frozenset({
    "CaseFoldUTF8", "ConstrainedSequence", "FastBertNormalize", "FastWordpieceTokenizeWithOffsets",
    "FindSourceOffsets", "MaxSpanningTree", "NormalizeUTF8", "NormalizeUTF8WithOffsetsMap", "PhraseTokenize",
    "RegexSplitWithOffsets", "RougeL", "SentenceFragments", "SentenceFragmentsV2", "SentencepieceDetokenizeOp",
    "SentencepieceIdToStringOp", "SentencepieceOp", "SentencepieceStringToIdOp", "SentencepieceTokenizeOp",
    "SentencepieceTokenizeWithOffsetsOp", "SentencepieceVocabSizeOp", "SplitMergeTokenizeWithOffsets",
    "TFText>BoiseTagsToOffsets", "TFText>ByteSplitByOffsets", "TFText>ByteSplitWithOffsets",
    "TFText>FastSentencepieceDetokenize", "TFText>FastSentencepieceTokenize", "TFText>FastWordpieceDetokenize",
    "TFText>NgramsStringJoin", "TFText>OffsetsToBoiseTags", "TFText>PhraseDetokenize",
    "TFText>RoundRobinGenerateMasks", "TFText>RoundRobinTrim", "TFText>Utf8Binarize",
    "TFText>WhitespaceTokenizeWithOffsetsV2", "TokenizerFromLogits", "UnicodeScriptTokenizeWithOffsets",
    "WhitespaceTokenizeWithOffsets", "WordpieceTokenizeWithOffsets",
})

_REGISTERED_OPS = """
import json, sys
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session
def ops():
    ops = op_def_pb2.OpList()
    ops.ParseFromString(pywrap_tf_session.TF_GetBuffer(pywrap_tf_session.TF_GetAllOpList()))
    return sorted(op.name for op in ops.op)
core = ops()
import tensorflow_text
print(json.dumps({"core": core, "text": sorted(set(ops()) - set(core))}))
"""


@pytest.fixture(scope="module")
def saved_model_dir(tmp_path_factory):
    """A tiny, untrained classifier exported exactly as the Trainer's run_fn exports one."""
    import tensorflow as tf
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import metadata_io

    from components import tasks
    from components.core import features
    from components.nn.backbone import build_backbone
    from components.tasks.classification.model import build_classifier
    from components.tfx import transform as transform_module

    config = config_lib.from_dict({"model": {"preset": "tiny", "hidden_dim": 16, "intermediate_dim": 32},
                                   "tokenizer": {"vocab_size": 60, "max_seq_length": 12}})
    root = tmp_path_factory.mktemp("deploy_contract")
    rows = [{"text": text, "label": label} for text, label in sentiment_rows(40, seed=3)]
    spec = {"text": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.string)}
    raw_metadata = tft.DatasetMetadata.from_feature_spec(spec)
    with tft_beam.Context(temp_dir=str(root / "tmp")):
        transform_fn = (rows, raw_metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: transform_module.preprocessing_fn(inputs, config.to_dict()))
        _ = transform_fn | tft_beam.WriteTransformFn(str(root / "transform"))
    metadata_io.write_metadata(raw_metadata, str(root / "transform" / tft.TFTransformOutput.RAW_METADATA_DIR))
    tft_output = tft.TFTransformOutput(str(root / "transform"))
    backbone = build_backbone(config.model, tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB),
                              config.tokenizer.max_seq_length)
    model = build_classifier(backbone, tft_output.vocabulary_size_by_name(features.LABEL_VOCAB),
                             config.model.dropout, config.model.pooling)
    export_dir = str(root / MODEL_NAME / "1")  # the Pusher's <serving_root>/<model_name>/<version>/ layout
    tasks.get(config.task).export(model, tft_output, config, export_dir)
    return export_dir


@pytest.fixture(scope="module")
def serve_graph(saved_model_dir):
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    graphs = [g for g in saved_model.meta_graphs if "serve" in g.meta_info_def.tags]
    assert len(graphs) == 1, "TF Serving loads the meta graph tagged 'serve'"
    return graphs[0]


@pytest.fixture(scope="module")
def registered_ops():
    """Op names TF itself registers, and those `import tensorflow_text` adds (in a fresh process)."""
    out = subprocess.run([sys.executable, "-c", _REGISTERED_OPS], capture_output=True, text=True, check=True,
                         timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_signatures_take_strings_and_name_the_text_input(serve_graph):
    signatures = {k: v for k, v in serve_graph.signature_def.items() if not k.startswith("__")}  # not init ops
    assert {"serving_default", "serving_examples"} <= set(signatures)
    for name, signature in signatures.items():
        assert signature.inputs, name
        assert {i.dtype for i in signature.inputs.values()} == {types_pb2.DT_STRING}, name
    assert list(signatures["serving_default"].inputs) == ["text"]
    assert {"label", "class_id", "probabilities"} <= set(signatures["serving_default"].outputs)


def test_graph_uses_only_ops_tf_serving_2_16_links(serve_graph, registered_ops):
    used = {node.op for node in serve_graph.graph_def.node}
    for function in serve_graph.graph_def.library.function:
        used |= {node.op for node in function.node_def}
    text_ops = used - set(registered_ops["core"])
    assert "FastWordpieceTokenizeWithOffsets" in text_ops  # the tokenizer really is in the serving graph
    assert text_ops <= TF_TEXT_2_16_OPS, f"ops TF Serving 2.16 lacks: {sorted(text_ops - TF_TEXT_2_16_OPS)}"


def test_the_listed_ops_are_tensorflow_text_2_16s(registered_ops):
    assert importlib.metadata.version("tensorflow-text").startswith("2.16.")
    assert set(registered_ops["text"]) == TF_TEXT_2_16_OPS


def test_serving_image_is_the_minor_of_tensorflow_and_tensorflow_text():
    images = {_compose()["services"]["tf-serving"]["image"], _container()["image"]}
    assert len(images) == 1, images
    major, minor, _ = SERVING_IMAGE.fullmatch(images.pop()).groups()
    for package in ("tensorflow", "tensorflow-text", "tensorflow-serving-api"):
        assert importlib.metadata.version(package).split(".")[:2] == [major, minor], package


def test_models_config_parses_and_points_at_the_pushed_model():
    config = text_format.Parse(_read("models.config"), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == (MODEL_NAME, f"/models/{MODEL_NAME}", "tensorflow")
    assert model.model_version_policy.latest.num_versions >= 1


def test_rendered_models_config_labels_only_pinned_versions():
    rendered = models_config.render(MODEL_NAME, f"/models/{MODEL_NAME}", [1700000003, 1700000001, 1700000002])
    (model,) = text_format.Parse(rendered, model_server_config_pb2.ModelServerConfig()).model_config_list.config
    assert list(model.model_version_policy.specific.versions) == [1700000002, 1700000003]
    assert dict(model.version_labels) == {"stable": 1700000003, "previous": 1700000002}
    with pytest.raises(ValueError):
        models_config.render(MODEL_NAME, f"/models/{MODEL_NAME}", [])


def test_batching_config_parses_and_keeps_tf_servings_rules():
    params = text_format.Parse(_read("batching.config"), _batching_parameters_class()())
    sizes = list(params.allowed_batch_sizes)
    assert sizes == sorted(set(sizes)) and sizes[-1] == params.max_batch_size.value
    assert params.num_batch_threads.value >= 1 and params.batch_timeout_micros.value > 0
    cpu = _container()["resources"]["requests"]["cpu"]
    assert int(cpu) >= params.num_batch_threads.value, "each batch thread needs a core"


def test_compose_and_kubernetes_start_tf_serving_the_same_way():
    service = _compose()["services"]["tf-serving"]
    container = _container()
    assert service["command"] == container["args"]
    flags = dict(arg.lstrip("-").split("=", 1) for arg in container["args"])
    assert flags["enable_batching"] == "true"
    compose_mounts = {v.rsplit(":", 2)[1] for v in service["volumes"]}
    kube_mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for path in (flags["model_config_file"], flags["batching_parameters_file"]):
        assert path in compose_mounts and os.path.dirname(path) in kube_mounts, path
    assert "/models" in compose_mounts and "/models" in kube_mounts


def test_kubernetes_probe_service_and_volumes_fit_together():
    documents = {d["kind"]: d for d in _kube_documents()}
    deployment, service = documents["Deployment"], documents["Service"]
    container = _container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": 8500, "http": 8501}  # what the image's entrypoint listens on
    probe = container["readinessProbe"]["httpGet"]
    assert probe == {"path": f"/v1/models/{MODEL_NAME}", "port": "http"}  # the REST model status route
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == pod_labels == service["spec"]["selector"]
    assert {p["targetPort"] for p in service["spec"]["ports"]} == set(ports)
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert {m["name"] for m in container["volumeMounts"]} == set(volumes)
    kustomization = yaml.safe_load(_read("kustomization.yaml"))
    (generated,) = kustomization["configMapGenerator"]
    config_volume = next(v for v in volumes.values() if "configMap" in v)
    assert config_volume["configMap"]["name"] == generated["name"]
    assert set(generated["files"]) == {"models.config", "batching.config"}
    for path in kustomization["resources"] + generated["files"]:
        assert os.path.isfile(os.path.join(DEPLOY, path)), path


def _batching_parameters_class():
    """BatchingParameters as TF Serving 2.16's session_bundle_config.proto declares it (same package, names, numbers
    and types). tensorflow-serving-api ships no session_bundle_config_pb2, so the message is built from its
    descriptor; text_format.Parse stays as strict as with the generated class."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/servables/tensorflow/session_bundle_config.proto", package="tensorflow.serving",
        syntax="proto3", dependency=["google/protobuf/wrappers.proto"])
    message = proto.message_type.add(name="BatchingParameters")
    field = descriptor_pb2.FieldDescriptorProto
    for number, name, wrapper in [(1, "max_batch_size", "Int64Value"), (2, "batch_timeout_micros", "Int64Value"),
                                  (3, "max_enqueued_batches", "Int64Value"), (4, "num_batch_threads", "Int64Value"),
                                  (5, "thread_pool_name", "StringValue")]:
        message.field.add(name=name, number=number, label=field.LABEL_OPTIONAL, type=field.TYPE_MESSAGE,
                          type_name=f".google.protobuf.{wrapper}")
    message.field.add(name="allowed_batch_sizes", number=6, label=field.LABEL_REPEATED, type=field.TYPE_INT64)
    message.field.add(name="pad_variable_length_inputs", number=7, label=field.LABEL_OPTIONAL, type=field.TYPE_BOOL)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(proto)
    return message_factory.MessageFactory(pool).GetPrototype(
        pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters"))


def _read(name: str) -> str:
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as f:
        return f.read()


def _compose() -> dict:
    return yaml.safe_load(_read("docker-compose.yaml"))


def _kube_documents() -> list:
    return [d for name in ("k8s/deployment.yaml", "k8s/service.yaml") for d in yaml.safe_load_all(_read(name))]


def _container() -> dict:
    deployment = next(d for d in _kube_documents() if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container
