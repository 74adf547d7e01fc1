"""Evaluation metrics beyond what Keras ships."""
