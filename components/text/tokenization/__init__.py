"""WordPiece tokenization: learned at Beam scale inside Transform (`wordpiece_learner`), applied in the TF graph
(`tokenizer`) so training, evaluation and serving run the very same ops; `word_alignment` lays tagged words out
as word pieces for token classification."""
