"""Machine translation: parallel text (source, target) -> an encoder-decoder Transformer -> translations decoded
inside the served model (greedy or beam search), gated on BLEU."""
