"""Class-imbalance strategies for training: loss weights, balanced oversampling, undersampling.

- ``none``: plain shuffling, unweighted loss.
- ``class_weight``: plain shuffling, loss weights ``n / (C * count_c)`` from the training labels.
- ``oversample``: every epoch holds each class ``max_c count_c`` times; minority rows are repeated
  (all of them as often as fits, the remainder drawn without repeats), the majority is a permutation.
- ``undersample``: every epoch holds each class ``min_c count_c`` times, drawn afresh without
  replacement, so the majority's rows rotate through the epochs.
"""

from __future__ import annotations

import numpy as np
import torch

from genomedl.choices import IMBALANCE_MODES
from genomedl.errors import GenomedlError


def class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights ``n / (C * count_c)`` from training labels, float32 ``[C]``."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = len(labels) / (n_classes * np.maximum(counts, 1))
    return torch.tensor(weights, dtype=torch.float32)


class ClassBalancedSampler(torch.utils.data.Sampler):
    """Yields ``per_class`` row indices of every class per epoch, shuffled; seeded by (seed, epoch).

    Lightning calls :meth:`set_epoch` before each epoch (resumed runs included); without it, each
    pass over the sampler moves on to the next epoch.
    """

    def __init__(self, labels: np.ndarray, per_class: int, seed: int):
        self.rows = [np.flatnonzero(labels == c) for c in np.unique(labels)]
        self.per_class, self.seed, self.epoch = per_class, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_class * len(self.rows)

    def epoch_indices(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch])
        drawn = []
        for rows in self.rows:
            repeats, remainder = divmod(self.per_class, len(rows))
            drawn += [np.tile(rows, repeats), rng.choice(rows, remainder, replace=False)]
        return rng.permutation(np.concatenate(drawn))

    def __iter__(self):
        indices = self.epoch_indices(self.epoch)
        self.epoch += 1
        return iter(indices.tolist())


def make_train_sampler(
    labels: np.ndarray, strategy: str, seed: int, n_classes: int | None = None
) -> tuple[torch.utils.data.Sampler | None, torch.Tensor | None, dict[int, int]]:
    """(sampler or None for plain shuffling, loss weights ``[C]`` or None, rows of each class per epoch).

    ``labels``: int class indices of the training rows ``[n]``; ``n_classes`` defaults to ``max + 1``.
    """
    if strategy not in IMBALANCE_MODES:
        raise GenomedlError(
            f"unknown imbalance strategy {strategy!r} (config key models.<name>.imbalance); "
            f"use one of {', '.join(IMBALANCE_MODES)}"
        )
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    counts = np.bincount(labels, minlength=n_classes)
    present = counts[counts > 0]
    if strategy in ("oversample", "undersample"):
        per_class = int(present.max() if strategy == "oversample" else present.min())
        epoch_counts = {c: per_class if counts[c] else 0 for c in range(n_classes)}
        return ClassBalancedSampler(labels, per_class, seed), None, epoch_counts
    weights = class_weights(labels, n_classes) if strategy == "class_weight" else None
    return None, weights, {c: int(counts[c]) for c in range(n_classes)}
