"""Causal (GPT-style) language modelling: a plain-text corpus -> next-token prediction -> generated text."""
