"""Turning examples into model inputs: entity markers, features, batches."""
