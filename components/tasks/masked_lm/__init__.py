"""Masked-LM pretraining (BERT, optionally with next-sentence prediction): a plain-text corpus -> a backbone that
the classifier can fine-tune from (base_model.source=pipeline), gated on eval perplexity and masked accuracy. It can
itself continue from a base model (another masked-LM pipeline, or a keras-hub BERT preset) on a new corpus."""
