"""The translation kind: its Transform step through real Beam (one vocabulary or one per side, placeholders and CJK
kept, cut pairs flagged), its config keys, and its TFMA gate."""
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import config as config_lib
from components.core import features
from components.core.errors import UserError
from components.tasks.translation import evaluation
from components.tasks.translation.train import vocabularies
from components.text.tokenization.detokenizer import join_marked
from components.tfx import transform as transform_module

PAIRS = [("Could not open file %s", "Datei %s konnte nicht geöffnet werden"),
         ("File %s not found", "Datei %s nicht gefunden"),
         ("Could not read file %1$s: %2$s", "Datei %1$s konnte nicht gelesen werden: %2$s"),
         ("{0} files deleted", "{0} Dateien gelöscht"),
         ("Could not open directory %s", "无法打开目录 %s"),
         ("file not found", "找不到文件"),
         ("Open the file %s now, then close the file and open the directory %s again, then read the file %s",
          "Datei %s jetzt öffnen, dann die Datei schließen und das Verzeichnis %s wieder öffnen, dann lesen")]


def _transform(tmp_path, overrides):
    config = config_lib.load(None, ["task=translation", "tokenizer.vocab_size=200", "tokenizer.min_word_count=1",
                                    "tokenizer.lowercase=false", "tokenizer.max_seq_length=24",
                                    "tokenizer.max_target_length=20"] + overrides)
    custom = config_lib.sections(config, ("tokenizer", "base_model"))
    rows = [{features.SOURCE: s, features.TARGET: t} for s, t in PAIRS]
    spec = {name: tf.io.FixedLenFeature([], tf.string) for name in (features.SOURCE, features.TARGET)}
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        (transformed, _), transform_fn = (rows, tft.DatasetMetadata.from_feature_spec(spec)) | \
            tft_beam.AnalyzeAndTransformDataset(lambda x: transform_module.preprocessing_fn(x, custom))
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "transform"))
    return transformed, tft.TFTransformOutput(str(tmp_path / "transform"))


@pytest.fixture(scope="module", params=[True, False], ids=["shared-vocabulary", "vocabulary-per-side"])
def transformed(request, tmp_path_factory):
    """(shared, rows, tft_output): one Beam run per vocabulary layout for the tests below."""
    shared = request.param
    tmp_path = tmp_path_factory.mktemp("shared" if shared else "per_side")
    return (shared, *_transform(tmp_path, [f"tokenizer.shared_vocabulary={str(shared).lower()}"]), tmp_path)


def test_transform_lays_out_both_sides_and_the_target_comes_back_exactly(transformed):
    shared, transformed, tft_output, _ = transformed
    source_vocabulary, target_vocabulary = vocabularies(tft_output)
    assert (source_vocabulary is target_vocabulary) == shared
    assert "文" in target_vocabulary and ("文" in source_vocabulary) == shared  # CJK split into characters
    row = transformed[2]
    assert row[features.TOKEN_IDS][0] == 2 and 3 in row[features.TOKEN_IDS].tolist()  # [CLS] ... [SEP]
    decoder, targets = row[features.DECODER_TOKEN_IDS].tolist(), row[features.TARGET_IDS].tolist()
    n = sum(row[features.DECODER_PADDING_MASK])
    assert decoder[0] == 2 and decoder[1:n] == targets[:n - 1]  # shifted by one: [CLS] t1 .. tn / t1 .. tn [SEP]
    for (_, target), row in zip(PAIRS[:6], transformed):
        ids = [i for i in row[features.TARGET_IDS].tolist() if i]
        assert ids[-1] == 3 and sum(row[features.DECODER_PADDING_MASK]) == len(ids)
        text = join_marked(tf.constant([ids]), tf.constant(target_vocabulary)).numpy()[0].decode()
        assert text == target  # placeholders, case, CJK without spaces: exactly as written
    assert [row[features.TRUNCATED] for row in transformed] == [0, 0, 0, 0, 0, 0, 1]  # the long one was cut
    assert 3 not in transformed[6][features.TARGET_IDS].tolist()  # a cut target never learns to end there
    assert sum(transformed[6][features.PADDING_MASK]) == 24


def test_config_keys_are_validated_and_the_preset_loads():
    for override, message in [("model.shared_embeddings=true", "model.shared_embeddings needs one vocabulary"),
                              ("decoding.beam_width=0", "decoding.beam_width must be in"),
                              ("evaluation.bleu_tokenizer=moses", "evaluation.bleu_tokenizer must be one of"),
                              ("training.label_smoothing=1", "training.label_smoothing must be in"),
                              ("data.target_column=source", "must be two different")]:
        extra = ["tokenizer.shared_vocabulary=false"] if override.startswith("model.") else []
        with pytest.raises(UserError, match=message):
            config_lib.load(None, ["task=translation", override] + extra)
    config = config_lib.load("translation", ["data.input_path=pairs.tsv"])
    assert (config.task, config.tokenizer.lowercase, config.model.shared_embeddings) == ("translation", False, True)
    assert config.tokenizer.target_length == 64 and config.decoding.beam_width == 4


def test_bleu_gates_the_push_against_the_baseline_and_chrf_may_too():
    config = config_lib.load("translation", ["evaluation.min_bleu=12", "evaluation.max_bleu_drop=0.5",
                                             "evaluation.bleu_tokenizer=zh", "evaluation.max_chrf_drop=2"])
    eval_config = evaluation.eval_config(config)
    (spec,) = eval_config.model_specs
    assert (spec.signature_name, spec.label_key, spec.prediction_key) == ("serving_examples", "target",
                                                                          "translation")
    metrics = {m.class_name: m for m in eval_config.metrics_specs[0].metrics}
    bleu = metrics["Bleu"]
    assert bleu.threshold.value_threshold.lower_bound.value == 12 and '"zh"' in bleu.config
    assert bleu.threshold.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert bleu.threshold.change_threshold.absolute.value == pytest.approx(-0.5)
    assert metrics["Chrf"].threshold.change_threshold.absolute.value == pytest.approx(-2.0)
    assert evaluation.HEADLINE.name == "bleu"


BASE_VOCABULARY = list(features.SPECIAL_TOKENS) + ["could", "not", "open", "file", "%", "s", "{", "}", "0", "files",
                                                   "deleted", "directory", "found", "read", "1", "$", "2", ":", "##s"]


def test_a_pretrained_encoder_reads_the_source_and_the_target_learns_its_own_vocabulary(tmp_path):
    import keras
    import keras_hub
    import numpy as np

    from components.nn import presets
    from components.tasks.translation.train import build_model

    keras.utils.set_random_seed(0)
    base = keras_hub.models.BertBackbone(vocabulary_size=len(BASE_VOCABULARY), num_layers=1, num_heads=2,
                                         hidden_dim=8, intermediate_dim=16, max_sequence_length=32, dropout=0.0)
    directory = str(tmp_path / "preset")
    presets.save(base, BASE_VOCABULARY, lowercase=True, directory=directory)
    overrides = ["base_model.source=preset", f"base_model.preset={directory}", "training.freeze_backbone_steps=3"]
    transformed, tft_output = _transform(tmp_path, overrides)
    source_vocabulary, target_vocabulary = vocabularies(tft_output)
    assert source_vocabulary == BASE_VOCABULARY and "Datei" in target_vocabulary
    assert [source_vocabulary[i] for i in transformed[0][features.TOKEN_IDS] if i][:6] == [
        "[CLS]", "could", "not", "open", "file", "%"]  # read as the base model was pretrained: lowercase, no marks
    config = config_lib.load(None, ["task=translation", "tokenizer.max_seq_length=24", "model.num_layers=3"]
                             + overrides)
    model = build_model(config, source_vocabulary, target_vocabulary, directory)
    backbone = next(layer for layer in model.encoder.layers if isinstance(layer, keras_hub.models.BertBackbone))
    for expected, actual in zip(base.get_weights(), backbone.get_weights()):
        np.testing.assert_array_equal(expected, actual)
    assert len(model.decoder_layers) == 1  # the decoder takes the encoder's shape, not model.*'s
    token_ids = tf.constant([transformed[0][features.TOKEN_IDS]], tf.int32)
    logits = model({features.TOKEN_IDS: token_ids, features.SEGMENT_IDS: tf.zeros_like(token_ids),
                    features.PADDING_MASK: tf.cast(token_ids > 0, tf.int32),
                    features.DECODER_TOKEN_IDS: tf.constant([[2, 5]]), features.DECODER_PADDING_MASK: tf.ones([1, 2])})
    assert logits.shape == (1, 2, len(target_vocabulary))


def test_batches_are_cut_to_their_longest_pair_unless_accumulation_stacks_them(transformed):
    from components.tasks.translation import data
    from components.training.train_step import micro_batches

    _, transformed, tft_output, tmp_path = transformed
    path = str(tmp_path / "pairs.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for row in transformed:
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                name: tf.train.Feature(int64_list=tf.train.Int64List(value=list(tf.reshape(value, [-1]).numpy())))
                for name, value in row.items()})).SerializeToString())
    (inputs, targets, weights), = data.make_dataset([path], tft_output, 2, training=False).take(1)
    longest = max(sum(row[features.DECODER_PADDING_MASK]) for row in transformed[:2])
    assert targets.shape == weights.shape == (2, longest) and inputs[features.TOKEN_IDS].shape[1] < 24
    assert weights.numpy().sum() == sum(sum(row[features.DECODER_PADDING_MASK]) for row in transformed[:2])
    stacked = micro_batches(data.make_dataset([path], tft_output, 2, training=True, trim=False), 3)
    (inputs, targets, _), = stacked.take(1)
    assert targets.shape == (6, 20) and inputs[features.TOKEN_IDS].shape == (6, 24)


def test_a_translation_pipeline_hands_the_blessed_masked_lm_to_transform_and_trainer():
    from tfx.dsl.compiler import compiler

    from pipeline.pipeline import PipelinePaths, create_pipeline

    config = config_lib.load("translation", ["base_model.source=pipeline", "base_model.pipeline_name=pretrain",
                                             "model.shared_embeddings=false"])
    paths = PipelinePaths("/tmp/root", "/tmp/metadata.sqlite", "/tmp/serving", "/tmp/data", "pairs.tsv")
    ir = compiler.Compiler().compile(create_pipeline(config, paths, num_classes=0))
    inputs = {node.pipeline_node.node_info.id: node.pipeline_node.inputs.inputs for node in ir.nodes}
    for consumer in ("Transform", "Trainer"):
        (channel,) = inputs[consumer]["base_model"].channels
        assert channel.producer_node_query.id == "base_model_resolver"
