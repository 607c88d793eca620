"""Relation-extraction data: reading, labels, the built-in sample, augmentation, predictions."""
