"""Batches of tokenized examples: length-grouped order, dynamic padding, micro-batch splitting."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from transformers.trainer_pt_utils import LengthGroupedSampler

from objectives.encoding._features import Features


def train_batches(
    features: Features, batch_size: int, generator: torch.Generator
) -> Iterator[np.ndarray]:
    """One epoch of index batches, grouped by similar length (less padding) in a random order.

    transformers' ``LengthGroupedSampler`` gives the order: shuffled mega-batches, each sorted by
    length; consecutive runs of ``batch_size`` indices are the batches.
    """
    sampler = LengthGroupedSampler(
        batch_size, lengths=features.lengths.tolist(), generator=generator
    )
    order = np.fromiter(iter(sampler), dtype=np.int64, count=len(features))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def eval_batches(features: Features, batch_size: int) -> Iterator[np.ndarray]:
    """Index batches sorted by length (longest first, so a memory problem shows at once)."""
    order = np.argsort(-features.lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def split(indices: np.ndarray, micro_batch_size: int) -> list[np.ndarray]:
    return [indices[i : i + micro_batch_size] for i in range(0, len(indices), micro_batch_size)]


def collate(
    features: Features, indices: np.ndarray, pad_id: int, multiple_of: int = 1
) -> dict[str, torch.Tensor]:
    """Pad the examples at ``indices`` to the longest of them (rounded up to ``multiple_of``)."""
    lengths = features.lengths[indices]
    width = int(lengths.max())
    if multiple_of > 1:
        width = -(-width // multiple_of) * multiple_of
    input_ids = np.full((len(indices), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(indices), width), dtype=np.int64)
    for row, (i, n) in enumerate(zip(indices, lengths, strict=True)):
        input_ids[row, :n] = features.input_ids(i)
        mask[row, :n] = 1
    return {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(mask),
        "subject_index": torch.from_numpy(features.subject_index[indices]),
        "object_index": torch.from_numpy(features.object_index[indices]),
        "labels": torch.from_numpy(features.labels[indices]),
    }
