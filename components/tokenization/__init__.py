"""WordPiece tokenization: learned at Beam scale inside Transform (`wordpiece_learner`), applied in the TF graph
(`tokenizer`) so training, evaluation and serving run the very same ops."""
