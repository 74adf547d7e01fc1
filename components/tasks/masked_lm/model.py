"""The pretraining model: a keras-hub BERT backbone, a masked-LM head tied to its token embedding, and optionally a
next-sentence head on the pooled [CLS] output. Only the backbone outlives pretraining (fine-tuning starts from it).
"""
import keras
import keras_hub

from components.core import features
from components.nn.metrics.perplexity import Perplexity
from components.tasks.masked_lm.masking import MASK_POSITIONS

MLM, NSP = "mlm", "nsp"  # output names: Keras keys losses, metrics and sample weights by them


def build_pretrainer(backbone: keras_hub.models.BertBackbone, max_predictions: int, nsp: bool) -> keras.Model:
    """{token_ids, padding_mask, segment_ids (B, L), mask_positions (B, P)} -> {mlm: (B, P, V), nsp: (B, 2)} float32
    logits (nsp only when asked)."""
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in features.MODEL_INPUTS}
    inputs[MASK_POSITIONS] = keras.Input(shape=(max_predictions,), dtype="int32", name=MASK_POSITIONS)
    encoded = backbone({name: inputs[name] for name in features.MODEL_INPUTS})
    head = keras_hub.layers.MaskedLMHead(
        token_embedding=backbone.token_embedding, intermediate_activation="gelu",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), dtype=backbone.dtype_policy,
        name="mlm_head")
    outputs = {MLM: _float32(MLM)(head(encoded["sequence_output"], mask_positions=inputs[MASK_POSITIONS]))}
    if nsp:
        outputs[NSP] = keras.layers.Dense(2, dtype="float32", name="nsp_head")(encoded["pooled_output"])  # (B, 2)
    return keras.Model(inputs, outputs, name="masked_lm_pretrainer")


def _float32(name: str) -> keras.layers.Layer:
    """Logits and losses in float32 whatever the compute precision."""
    return keras.layers.Activation("linear", dtype="float32", name=name)


def compile_kwargs(nsp: bool) -> dict:
    """Mean cross-entropy over the real targets (padding targets weigh 0), plus NSP's when trained. Logged per output:
    mlm_accuracy (masked-token accuracy), mlm_perplexity (exp of the mean target loss), nsp_accuracy."""
    token_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    prefix = "" if nsp else f"{MLM}_"  # Keras prefixes output names only when there are several outputs
    kwargs = dict(loss={MLM: token_loss}, weighted_metrics={MLM: [
        keras.metrics.SparseCategoricalAccuracy(name=f"{prefix}accuracy"), Perplexity(name=f"{prefix}perplexity")]})
    if nsp:
        kwargs["loss"][NSP] = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        kwargs["weighted_metrics"][NSP] = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    return kwargs


def backbone_of(model: keras.Model) -> keras_hub.models.BertBackbone:
    """The backbone inside a pretrainer: what fine-tuning starts from."""
    return next(layer for layer in model.layers if isinstance(layer, keras_hub.models.BertBackbone))
