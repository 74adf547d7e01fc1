"""An untrained one-layer classifier for export tests: what is checked is the path from raw text to the model."""
import keras
import tensorflow_transform as tft

from components.core import features
from components.core.config import ModelConfig
from components.nn.backbone import build_backbone
from components.tasks.classification.model import build_classifier

TINY = ModelConfig(preset="tiny", num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16, dropout=0.0)


def tiny_classifier(tft_output: tft.TFTransformOutput, max_seq_length: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    backbone = build_backbone(TINY, tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB), max_seq_length)
    return build_classifier(backbone, tft_output.vocabulary_size_by_name(features.LABEL_VOCAB), 0.0, "cls")
