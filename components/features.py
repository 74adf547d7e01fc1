"""Feature names and special tokens, defined once.

Transformed features are named as keras-hub inputs so backbones take Transform's output directly.
"""
TOKEN_IDS = "token_ids"
PADDING_MASK = "padding_mask"
SEGMENT_IDS = "segment_ids"
LABEL_ID = "label_id"
MODEL_INPUTS = (TOKEN_IDS, PADDING_MASK, SEGMENT_IDS)

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # PAD is id 0, as keras-hub expects

# Names of the vocabularies Transform writes as assets (tft_output.vocabulary_file_by_name).
WORDPIECE_VOCAB = "wordpiece_vocab"
LABEL_VOCAB = "label_vocab"
