"""The encoder: a keras-hub BERT backbone whose shape comes from the config."""
import keras_hub

from components.core.config import ModelConfig


def build_backbone(model: ModelConfig, vocabulary_size: int, max_seq_length: int) -> keras_hub.models.BertBackbone:
    """Takes `token_ids`, `segment_ids`, `padding_mask` [B, L] and returns sequence and pooled outputs."""
    return keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        max_sequence_length=max_seq_length,
        dropout=model.dropout,
        **model.shape(),
    )
