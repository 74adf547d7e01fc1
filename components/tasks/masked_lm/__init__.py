"""Masked-LM pretraining (BERT, optionally with next-sentence prediction): a plain-text corpus -> a backbone that
the classifier can fine-tune from (base_model.source=pipeline), gated on eval perplexity and masked accuracy."""
