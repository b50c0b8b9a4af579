"""Fully connected classifier (DeeplyEssential-like) on a one-hot window or k-mer frequencies."""

from __future__ import annotations

import torch
import torch.nn as nn

from genomedl.models.layers import dense_stack, kmer_frequencies, one_hot
from genomedl.models.registry import register


@register("dnn")
class DNN(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]``.

    features: "onehot" (the flattened ``[4 * L]`` window: position-aware) or "kmer" (concatenated
    frequencies of every k in ``k``: ``[sum 4**k]``, position-blind). hidden: widths of the ReLU layers
    (default six, as in DeeplyEssential), each with optional batch norm and dropout.
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        features: str = "onehot",
        k=(1, 2, 3, 4),
        hidden=(512, 256, 128, 64, 32, 16),
        dropout: float = 0.2,
        batch_norm: bool = True,
    ):
        super().__init__()
        if features not in ("onehot", "kmer"):
            raise TypeError("features must be 'onehot' or 'kmer'")
        self.features = features
        self.ks = [k] if isinstance(k, int) else list(k)
        n_in = 4 * length if features == "onehot" else sum(4**k for k in self.ks)
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        self.net = dense_stack(n_in, widths, n_classes, dropout, batch_norm)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.features == "onehot":
            x = one_hot(tokens).flatten(1)
        else:
            x = torch.cat([kmer_frequencies(tokens, k) for k in self.ks], dim=1)
        return self.net(x)
