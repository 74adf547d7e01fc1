"""Transform for the classifier: text -> word pieces (learned or the base model's vocabulary); label -> its id."""
from components.core import features
from components.core.config import Config
from components.nn import base_vocabulary
from components.text import labels
from components.text.columns import strings
from components.text.tokenization import tokenizer


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids (int64 [max_seq_length]), label_id, num_pieces and cut_pieces
    (int64 [])."""
    texts = strings(inputs[config.data.text_column])
    encoder = base_vocabulary.encoder(texts, config)
    pieces = encoder.wordpieces(texts)
    outputs = encoder.encode_pieces(pieces)
    outputs.update(tokenizer.piece_counts(pieces, outputs[features.PADDING_MASK]))
    outputs[features.LABEL_ID] = labels.label_ids(strings(inputs[config.data.label_column]))
    return outputs
