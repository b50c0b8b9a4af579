"""Layers shared by the models."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def one_hot(tokens: torch.Tensor) -> torch.Tensor:
    """uint8 tokens ``[B, L]`` (A=0 C=1 G=2 T=3 N=4) -> float one-hot ``[B, 4, L]``; N is all zeros."""
    return F.one_hot(tokens.long(), num_classes=5)[..., :4].transpose(1, 2).float()


def reverse_complement_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """Reverse complement of token batches ``[B, L]``: A<->T, C<->G, N stays N, order reversed."""
    flipped = tokens.flip(-1)
    return torch.where(flipped < 4, 3 - flipped, flipped)
