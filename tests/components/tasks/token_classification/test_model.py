import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from components.core import features
from components.nn.metrics.entities import EntityScore
from components.tasks.token_classification.model import IGNORE_TAG, TAG_MASK, TokenClassifier, build_token_classifier
from components.text import word_shapes

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
B, T = 4, 8
PADDING = np.array([[1] * 8, [1] * 8, [1] * 5 + [0] * 3, [1] * 3 + [0] * 5], "int32")
# [CLS] at 0, a non-first word piece at 3, padding: all IGNORE_TAG. Valid BIO, so constraints are no obstacle.
LABELS = np.array([[-100, 1, 2, -100, 0, 3, 4, 0],
                   [-100, 0, 0, 3, 0, 1, 2, 2],
                   [-100, 3, 4, -100, 0, -100, -100, -100],
                   [-100, 1, 0, -100, -100, -100, -100, -100]])


def _inputs():
    token_ids = np.random.default_rng(0).integers(5, 20, (B, T)) * PADDING
    return {features.TOKEN_IDS: token_ids.astype("int32"), features.PADDING_MASK: PADDING,
            features.SEGMENT_IDS: np.zeros((B, T), "int32")}


def _model(head, bio_constraints=False, word_shapes=False):
    keras.utils.set_random_seed(1)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8,
                                             intermediate_dim=16, max_sequence_length=8)
    return build_token_classifier(backbone, len(TAGS), 0.0, head=head, tag_names=TAGS,
                                  bio_constraints=bio_constraints, word_shapes=word_shapes)


@pytest.mark.parametrize("head,bio", [("softmax", False), ("crf", True)])
def test_loss_decreases_on_a_repeated_batch(head, bio):
    model = _model(head, bio)
    model.compile(optimizer=keras.optimizers.Adam(3e-2), metrics=[EntityScore(TAGS)])
    history = model.fit(_inputs(), LABELS, batch_size=B, epochs=25, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert history.history["entity_f1"][-1] > 0.8


def test_head_losses_cover_labelled_positions_only():
    x = _inputs()
    softmax = _model("softmax")
    scores = keras.ops.convert_to_numpy(softmax(x))
    log_probs = scores - np.log(np.exp(scores).sum(-1, keepdims=True))
    labelled = LABELS != IGNORE_TAG
    expected = -np.take_along_axis(log_probs, np.where(labelled, LABELS, 0)[..., None], -1)[..., 0][labelled].mean()
    np.testing.assert_allclose(softmax.compute_loss(x, LABELS, scores), expected, rtol=1e-5)

    crf = _model("crf")
    crf.crf.set_weights([np.random.default_rng(2).normal(size=w.shape) for w in crf.crf.get_weights()])
    scores = crf(x)
    expected = -keras.ops.convert_to_numpy(crf.crf.log_likelihood(scores, np.where(labelled, LABELS, 0), labelled))
    np.testing.assert_allclose(crf.compute_loss(x, LABELS, scores), expected.mean(), rtol=1e-5)


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_float32_scores_and_int_tags_under_mixed_precision(head):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _model(head)
        scores, tags = model(_inputs()), model.decode_tags(_inputs())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert tuple(scores.shape) == (B, T, len(TAGS)) and scores.dtype == "float32"
    tags = keras.ops.convert_to_numpy(tags)
    assert tags.shape == (B, T) and tags.dtype == np.int32
    assert ((tags == IGNORE_TAG) == (PADDING == 0)).all()  # default tagged positions: padding_mask


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_tag_mask_input_picks_the_tagged_positions(head):
    model = _model(head)
    x = dict(_inputs(), **{TAG_MASK: (LABELS != IGNORE_TAG).astype("int32")})
    tags = keras.ops.convert_to_numpy(model.decode_tags(x))
    assert ((tags == IGNORE_TAG) == (LABELS == IGNORE_TAG)).all()
    assert ((tags >= 0) & (tags < len(TAGS)) | (tags == IGNORE_TAG)).all()


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_word_shapes_alone_tell_names_from_other_words(head):
    """Every word is a token the model has no other way to tell apart (one id); only its shape says "name"."""
    shapes = np.where(LABELS > 0, word_shapes.CAPITALIZED, word_shapes.LOWERCASE) * PADDING
    x = dict(_inputs(), **{features.TOKEN_IDS: 5 * PADDING, features.WORD_SHAPES: shapes.astype("int32")})
    labels = np.where(LABELS > 0, np.where(LABELS % 2, 1, 2), LABELS)  # B-PER / I-PER: one entity type
    for shaped, at_least in ((True, 0.9), (False, 0.0)):
        model = _model(head, word_shapes=shaped)
        model.compile(optimizer=keras.optimizers.Adam(3e-2), metrics=[EntityScore(TAGS)])
        f1 = model.fit(x, labels, batch_size=B, epochs=30, verbose=0).history["entity_f1"][-1]
        assert f1 >= at_least if shaped else f1 < 0.9


def test_word_shapes_start_at_zero_so_the_backbone_computes_what_it_did_without_them():
    """The shapes go into the backbone's embedding sum: at first they add nothing, whatever the backbone's weights."""
    plain, shaped = _model("softmax"), _model("softmax", word_shapes=True)
    plain.backbone.set_weights([np.random.default_rng(3).normal(size=w.shape) for w in plain.backbone.get_weights()])
    shaped.backbone.set_weights(plain.backbone.get_weights())
    shaped.scores.set_weights(plain.scores.get_weights())
    x = dict(_inputs(), **{features.WORD_SHAPES: np.full((B, T), word_shapes.CAPITALIZED, "int32") * PADDING})
    np.testing.assert_allclose(shaped(x), plain(x), atol=1e-5)
    shaped.shape_embedding.set_weights([np.random.default_rng(4).normal(size=(word_shapes.COUNT, 8))])
    assert np.abs(keras.ops.convert_to_numpy(shaped(x)) - keras.ops.convert_to_numpy(plain(x))).max() > 1e-2


@pytest.mark.parametrize("head,shapes", [("softmax", False), ("crf", False), ("crf", True)])
def test_config_round_trip_rebuilds_same_outputs(head, shapes):
    model = _model(head, bio_constraints=head == "crf", word_shapes=shapes)
    x = dict(_inputs(), **{features.WORD_SHAPES: np.full((B, T), 2, "int32") * PADDING})
    clone = TokenClassifier.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.get_config() == model.get_config()
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)
    np.testing.assert_array_equal(clone.decode_tags(x), model.decode_tags(x))


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_exported_endpoint_serves_decoded_tags(head, tmp_path):
    model = _model(head, bio_constraints=head == "crf")
    signature = {name: tf.TensorSpec((None, T), tf.int32, name=name) for name in (*features.MODEL_INPUTS, TAG_MASK)}
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.decode_tags, input_signature=[signature])
    archive.write_out(str(tmp_path / "export"), verbose=False)
    x = dict(_inputs(), **{TAG_MASK: (LABELS != IGNORE_TAG).astype("int32")})
    reloaded = tf.saved_model.load(str(tmp_path / "export"))  # keep a reference: it owns the variables
    served = reloaded.serve({k: tf.constant(v) for k, v in x.items()})
    assert served.dtype == tf.int32
    np.testing.assert_array_equal(served, model.decode_tags(x))


def test_compiling_with_a_loss_is_refused():
    model = _model("softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="own loss"):
        model.fit(_inputs(), LABELS, epochs=1, verbose=0)
