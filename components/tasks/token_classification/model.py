"""Per-token tagging head (softmax or CRF) on any keras-hub encoder backbone, e.g. for named-entity recognition.

Label convention, the same for both heads: y is int tag ids (B, T) with IGNORE_TAG (-100) wherever a position
carries no tag: padding, [CLS]/[SEP] and the non-first pieces of a word. The CRF chains the tagged positions only,
so it learns word-to-word transitions. Decoded tags come back in the same format, IGNORE_TAG where untagged.

At inference the model needs the same tagged positions without labels: give it an optional `tag_mask` (B, T)
input (1 on the first piece of each word, i.e. exactly where labels are not IGNORE_TAG). Without it, every
non-padding position is tagged, which matches training only when labels cover every non-padding position.

With `word_shapes`, the encoder also reads each position's word shape (components/text/word_shapes.py, the
`word_shapes` input), embedded and added to the token, position and segment embeddings of the BERT backbone: a
capitalized word the vocabulary has never seen in a name still looks like one, to every layer. The shape embedding
starts at zero, so a pretrained backbone starts out computing exactly what it was pretrained to.
"""
from typing import Optional, Sequence

import keras
from keras import ops

from components.core import features
from components.core.features import IGNORE_TAG, TAG_MASK  # TAG_MASK: optional input, defaults to padding_mask
from components.nn.crf import CRF
from components.text import word_shapes as shapes

HEADS = ("softmax", "crf")


def input_names(word_shapes: bool) -> tuple:
    """The transformed features a tagger reads: the encoder's, and the word shapes when it has them."""
    return features.MODEL_INPUTS + ((features.WORD_SHAPES,) if word_shapes else ())


class _CRFNegativeLogLikelihood(keras.losses.Loss):
    """Mean over sequences of -log p(tags); a Loss so Keras scales it per replica under tf.distribute."""

    def __init__(self, crf: CRF, name="crf_nll"):
        super().__init__(name=name)
        self.crf = crf

    def call(self, y_true, y_pred):
        tags = ops.cast(y_true, "int32")  # Loss.__call__ made it float
        return -self.crf.log_likelihood(y_pred, tags, ops.not_equal(tags, IGNORE_TAG))  # (B,)


@keras.saving.register_keras_serializable(package="components")
class TokenClassifier(keras.Model):
    """Maps the backbone's inputs dict to float32 per-token scores (B, T, K), whatever the compute precision.

    The head owns its loss (token cross-entropy or CRF negative log-likelihood over labelled positions): compile
    with an optimizer and metrics only. Compiled metrics receive decoded tag ids (B, T) rather than scores, so the
    CRF is judged on its Viterbi output; decoding there chains the labelled positions. `decode_tags` is the
    inference path for export: int32 tags (B, T) for either head.
    """

    def __init__(self, backbone: keras.Model, num_tags: int, dropout: float = 0.0, head: str = "softmax",
                 tag_names: Optional[Sequence[str]] = None, bio_constraints: bool = False, word_shapes: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, not {head!r}")
        if bio_constraints and head != "crf":
            raise ValueError("bio_constraints need the crf head: softmax decoding has no transitions to constrain")
        self.backbone = backbone
        self.num_tags = num_tags
        self.dropout = dropout
        self.head = head
        self.tag_names = list(tag_names) if tag_names is not None else None
        self.bio_constraints = bio_constraints
        self.word_shapes = word_shapes
        self.head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        self.shape_embedding = None
        if word_shapes:
            self.shape_embedding = keras.layers.Embedding(shapes.COUNT, backbone.hidden_dim,
                                                          embeddings_initializer="zeros", name="word_shape_embedding")
            self.shape_embedding.build((None, None))
        self.scores = keras.layers.Dense(num_tags, dtype="float32", name="scores")
        self.scores.build((None, None, backbone.hidden_dim))  # built now: weights load without a first call
        self.crf = None
        if head == "crf":
            self.crf = CRF(num_tags, tag_names=self.tag_names, bio_constraints=bio_constraints, name="crf")
            self._head_loss = _CRFNegativeLogLikelihood(self.crf)
        else:
            self._head_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORE_TAG)
        self.built = True

    def call(self, inputs, training=False):
        if self.shape_embedding is None:
            encoder_inputs = {name: inputs[name] for name in features.MODEL_INPUTS}  # a tag_mask may ride along
            sequence = self.backbone(encoder_inputs, training=training)["sequence_output"]  # (B, T, H)
        else:
            sequence = self._encode_with_shapes(inputs, training)
        return self.scores(self.head_dropout(sequence, training=training))  # (B, T, K) float32

    def _encode_with_shapes(self, inputs, training):
        """The BERT backbone's own layers, as its functional graph runs them, with the shapes in the embedding sum."""
        bert = self.backbone
        tokens = bert.token_embedding(inputs[features.TOKEN_IDS])
        shape = ops.cast(self.shape_embedding(inputs[features.WORD_SHAPES]), tokens.dtype)
        x = bert.embeddings_add((tokens, bert.position_embedding(tokens),
                                 bert.segment_embedding(inputs[features.SEGMENT_IDS]), shape))
        x = bert.embeddings_dropout(bert.embeddings_layer_norm(x), training=training)
        for layer in bert.transformer_layers:
            x = layer(x, padding_mask=inputs[features.PADDING_MASK], training=training)
        return x

    def decode(self, scores, mask):
        """Best tags int32 (B, T) over the positions in `mask`, IGNORE_TAG elsewhere: Viterbi or per-token argmax."""
        if self.crf is not None:
            return self.crf.decode(scores, mask, pad_tag=IGNORE_TAG)
        tags = ops.cast(ops.argmax(scores, axis=-1), "int32")
        return ops.where(ops.cast(mask, "bool"), tags, IGNORE_TAG)

    def decode_tags(self, inputs):
        """Inference: int32 tags (B, T) at the positions of `inputs["tag_mask"]` (default: `padding_mask`)."""
        mask = inputs[TAG_MASK] if TAG_MASK in inputs else inputs[features.PADDING_MASK]
        return self.decode(self(inputs, training=False), mask)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.loss is not None:  # checked here, not in an overridden compile(), so saved models still recompile
            raise ValueError("TokenClassifier brings its own loss; compile it without one")
        loss = self._head_loss(y, y_pred, sample_weight)
        if self.losses:  # regularizers: the base class sums and scales them
            loss = loss + super().compute_loss(x, y, y_pred, sample_weight, training=training)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        tags = self.decode(y_pred, ops.not_equal(ops.cast(y, "int32"), IGNORE_TAG))  # (B, T)
        return super().compute_metrics(x, y, tags, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(backbone=keras.layers.serialize(self.backbone), num_tags=self.num_tags, dropout=self.dropout,
                      head=self.head, tag_names=self.tag_names, bio_constraints=self.bio_constraints,
                      word_shapes=self.word_shapes)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config, backbone=keras.layers.deserialize(config["backbone"]))
        return cls(**config)


def build_token_classifier(backbone: keras.Model, num_tags: int, dropout: float, head: str = "softmax",
                           tag_names: Optional[Sequence[str]] = None, bio_constraints: bool = False,
                           word_shapes: bool = False) -> TokenClassifier:
    """A tagger whose `fit(x, y)` takes tag ids with IGNORE_TAG holes and whose `decode_tags(x)` returns tag ids."""
    return TokenClassifier(backbone, num_tags, dropout, head=head, tag_names=tag_names,
                           bio_constraints=bio_constraints, word_shapes=word_shapes, name="token_classifier")
