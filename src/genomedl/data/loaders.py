"""DataLoaders over one split of a :class:`genomedl.data.datasets.Dataset`: ``(tokens [B, L] uint8, labels [B] int64)``
batches, in an order that depends only on (seed, epoch)."""

from __future__ import annotations

import numpy as np
import torch

from genomedl.data.datasets import SplitData, TokenRows


class TokenDataset(torch.utils.data.Dataset):
    """Token rows ``[L]`` uint8 and labels of one split; a whole batch is gathered by one fancy index.

    ``__getitems__`` lets the DataLoader fetch ``[B, L]`` tokens and ``[B]`` labels in one numpy
    gather instead of B item lookups and a stack, so loading keeps up with a GPU. Tokens are read per
    batch from the split's (memory-mapped) rows (:class:`genomedl.data.datasets.TokenRows`), never all at once.
    """

    def __init__(self, part: SplitData):
        self.tokens = part.tokens if isinstance(part.tokens, TokenRows) else TokenRows(part.tokens)
        self.labels = torch.from_numpy(part.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return torch.from_numpy(self.tokens[index]), self.labels[index]

    def __getitems__(self, indices: list[int]):
        return torch.from_numpy(self.tokens[np.asarray(indices)]), self.labels[torch.as_tensor(indices)]


PAD_LABEL = -1  # label of the rows that pad a last batch to full size


def keep_batch(batch):
    """collate_fn for :class:`TokenDataset`: the batch is already stacked."""
    return batch


class PadLast:
    """collate_fn that pads a short (last) batch to ``size`` rows of N with label ``PAD_LABEL``.

    Every batch then has the same shape, so a compiled model is not recompiled for the last one; the
    consumer masks the padding out (``labels != PAD_LABEL``).
    """

    def __init__(self, size: int):
        self.size = size

    def __call__(self, batch):
        tokens, labels = batch
        short = self.size - len(labels)
        if short <= 0:
            return tokens, labels
        return (
            torch.cat([tokens, tokens.new_full((short, tokens.shape[1]), 4)]),
            torch.cat([labels, labels.new_full((short,), PAD_LABEL)]),
        )


class EpochShuffle(torch.utils.data.Sampler):
    """Random order that depends only on (seed, epoch): a resumed run sees the same batches as an unbroken one.

    Lightning calls ``set_epoch`` before every epoch (and wraps this sampler per rank under DDP).
    """

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())


def loader(
    part: SplitData,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    distributed: bool = False,
    pin_memory: bool = False,
    num_workers: int = 0,
    sampler: torch.utils.data.Sampler | None = None,
    fixed_shape: bool = False,
) -> torch.utils.data.DataLoader:
    """DataLoader of ``(tokens [B, L] uint8, labels [B] int64)`` batches; shuffled per epoch when a seed is given.

    Under DDP (``distributed``) Lightning swaps the random sampler for a seeded DistributedSampler. A last
    training batch of a single row is dropped: batch norm cannot train on it. ``fixed_shape``: every batch
    has ``batch_size`` rows (so ``torch.compile`` compiles once): a training loader drops its partial last
    batch (when there is at least one full batch), any other loader pads it (:class:`PadLast`).
    """
    shuffle = shuffle_seed is not None and sampler is None  # a given sampler (imbalance.py) sets the order
    if shuffle and not distributed:
        sampler = EpochShuffle(len(part.labels), shuffle_seed)
    training = shuffle_seed is not None
    rows = len(sampler) if sampler is not None else len(part.labels)
    drop = training and (len(part.labels) % batch_size == 1 or (fixed_shape and rows >= batch_size))
    return torch.utils.data.DataLoader(
        TokenDataset(part),
        batch_size=batch_size,
        sampler=sampler,
        shuffle=shuffle and distributed,
        drop_last=drop,
        collate_fn=PadLast(batch_size) if fixed_shape and not training else keep_batch,
        pin_memory=pin_memory,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
