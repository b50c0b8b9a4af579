"""Convolutional classifier (Basset/DeepSEA-like): conv blocks, then a dense head over the
flattened feature map, so that the model knows *where* in the window a signal sits."""

from __future__ import annotations

import torch
import torch.nn as nn

from . import register
from .layers import one_hot


@register("cnn")
class CNN(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]``.

    filters/kernels/pools: one entry per conv block; hidden: width of the dense layer.
    """

    def __init__(self, length: int, n_classes: int, filters=(64, 64, 64), kernels=(15, 7, 5),
                 pools=(4, 4, 2), hidden: int = 128, dropout: float = 0.2, batch_norm: bool = True):
        super().__init__()
        if not (len(filters) == len(kernels) == len(pools)):
            raise TypeError("filters, kernels and pools need one entry per conv block")
        blocks, channels = [], 4
        for width, kernel, pool in zip(filters, kernels, pools):
            blocks += [nn.Conv1d(channels, width, kernel, padding="same"),
                       nn.BatchNorm1d(width) if batch_norm else nn.Identity(), nn.ReLU(),
                       nn.MaxPool1d(pool, ceil_mode=True), nn.Dropout(dropout)]
            channels = width
        self.features = nn.Sequential(*blocks)
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 4, length)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, n_classes))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(one_hot(tokens)))
