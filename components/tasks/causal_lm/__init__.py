"""Causal (GPT-style) language modelling: a plain-text corpus -> next-token prediction -> generated text. A causal LM
can continue from the blessed model of another causal-LM pipeline of the same workdir (base_model.source=pipeline)."""
