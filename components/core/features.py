"""Feature names and special tokens, defined once.

Transformed features are named as keras-hub inputs so backbones take Transform's output directly.
"""
TOKEN_IDS = "token_ids"
PADDING_MASK = "padding_mask"
SEGMENT_IDS = "segment_ids"
LABEL_ID = "label_id"
MODEL_INPUTS = (TOKEN_IDS, PADDING_MASK, SEGMENT_IDS)
# Every kind also writes, int64 [] per example, its word pieces before any truncation, and a kind that truncates to
# max_seq_length how many it dropped. No model reads them: Transform's post-transform statistics describe them for
# the run report.
NUM_PIECES, CUT_PIECES = "num_pieces", "cut_pieces"

# Token classification. Raw: one tf.Example per sentence with its words and their tags (bytes lists).
TOKENS, TAGS = "tokens", "tags"
# Transformed, int64 [max_seq_length]: the tag id on the first word piece of each word and IGNORE_TAG on every other
# position ([CLS], [SEP], padding, later pieces, words whose tag the training split never had); TAG_MASK is 1 exactly
# on those first pieces, so it says where to tag at inference, when there are no labels.
TAG_IDS, TAG_MASK = "tag_ids", "tag_mask"
# int64 [max_seq_length]: on every piece, the shape of its word (components/text/word_shapes.py), 0 elsewhere
WORD_SHAPES = "word_shapes"
IGNORE_TAG = -100  # what Keras' ignore_class and the CRF's masks take as "no tag here"

# Language models (causal and masked): TOKEN_IDS is int64 [pieces] per document, no special tokens. The masked LM
# also keeps SENTENCE_LENGTHS, int64 [sentences]: pieces per sentence, where next-sentence prediction may split.
SENTENCE_LENGTHS = "sentence_lengths"

# Translation. Raw: one tf.Example per pair, SOURCE and TARGET strings (whatever the input's columns are called).
# Transformed: the source as the encoder's TOKEN_IDS, PADDING_MASK, SEGMENT_IDS ([CLS] pieces [SEP]); the target as
# DECODER_TOKEN_IDS ([CLS] pieces: [CLS] starts every translation) and TARGET_IDS (pieces [SEP]: [SEP] ends it),
# with DECODER_PADDING_MASK on both; TRUNCATED is 1 for a pair either side of which was cut to fit.
SOURCE, TARGET = "source", "target"
DECODER_TOKEN_IDS, DECODER_PADDING_MASK, TARGET_IDS = "decoder_token_ids", "decoder_padding_mask", "target_ids"
TRUNCATED = "truncated"

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # PAD is id 0, as keras-hub expects
# Causal LM: [SEP] ends every document in the packed token stream, so a prompt starts after one (no new token).
DOCUMENT_END = SEP

# Names of the vocabularies Transform writes as assets (tft_output.vocabulary_file_by_name).
WORDPIECE_VOCAB = "wordpiece_vocab"
LABEL_VOCAB = "label_vocab"
TAG_VOCAB = "tag_vocab"
TARGET_VOCAB = "target_wordpiece_vocab"  # translation with one vocabulary per side: the target's
