"""Text in: readers of each input format with their checks, columns, labels, and tokenization."""
