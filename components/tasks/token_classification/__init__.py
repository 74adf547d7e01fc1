"""Token classification (NER): CoNLL files of (word, tag) sentences -> entities with character offsets in raw text.

Transform learns the WordPiece vocabulary from the words (or takes the base model's, base_model.*) and the sorted
tag vocabulary (features.TAG_VOCAB) from the tags, and aligns tags to word pieces (word_alignment). The backbone
starts from scratch or from a pretrained one, as the classifier's does; the head is softmax or CRF (model.head);
the Evaluator gates the push on entity-level micro F1 (evaluation.min_entity_f1, max_entity_f1_drop); the export
serves entities (export.py).

Tags the training split never had map to IGNORE_TAG: those words are neither trained nor scored (the runner's
input check logs them when data.eval_path has such tags).
"""
