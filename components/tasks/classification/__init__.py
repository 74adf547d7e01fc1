"""Sequence classification: CSV of (text, label) -> label name and class probabilities."""
