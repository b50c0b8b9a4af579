"""Layers shared by the models: input encodings on the device, strand handling, heads."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def one_hot(tokens: torch.Tensor) -> torch.Tensor:
    """uint8 tokens ``[B, L]`` (A=0 C=1 G=2 T=3 N=4) -> float one-hot ``[B, 4, L]``; N is all zeros.

    A float ``[B, 4, L]`` input is taken as one-hot already and passed through unchanged, so every
    model also accepts a differentiable one-hot (attribution methods need gradients at the input).
    """
    if tokens.is_floating_point() and tokens.dim() == 3:
        return tokens
    return F.one_hot(tokens.long(), num_classes=5)[..., :4].transpose(1, 2).float()


def reverse_complement_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """Reverse complement of token batches ``[B, L]``: A<->T, C<->G, N stays N, order reversed."""
    flipped = tokens.flip(-1)
    return torch.where(flipped < 4, 3 - flipped, flipped)


def kmer_frequencies(tokens: torch.Tensor, k: int) -> torch.Tensor:
    """Overlapping k-mer frequencies ``[B, 4**k]`` (float) of tokens ``[B, L]``; k-mers with N skipped.

    k-mer index = base-4 number of its tokens, first base most significant (AA..A = 0, TT..T = 4**k - 1).
    """
    windows = tokens.long().unfold(1, k, 1)  # [B, L-k+1, k]
    valid = (windows < 4).all(-1)
    powers = 4 ** torch.arange(k - 1, -1, -1, device=tokens.device)
    codes = torch.where(valid, (windows * powers).sum(-1), 0)
    counts = torch.zeros(tokens.shape[0], 4**k, device=tokens.device)
    counts.scatter_add_(1, codes, valid.float())
    return counts / valid.sum(1, keepdim=True).clamp(min=1)


class RCConv1d(nn.Conv1d):
    """Reverse-complement-equivariant first convolution on one-hot ``[B, 4, L]`` -> ``[B, F, L']``.

    Each filter scans both strands (its weights and their reverse complement) and keeps the larger
    response, so the features of the reverse-complemented input are the features of the input read
    backwards. Exact for odd kernels with ``padding="same"`` or ``"valid"`` and stride 1.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        forward = super().forward(x)
        reverse = self._conv_forward(x, self.weight.flip(1, 2), self.bias)
        return torch.maximum(forward, reverse)


class Residual(nn.Module):
    """``x + body(x)`` for a ``body`` that keeps the shape ``[B, C, L]`` (a residual block)."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Concat(nn.ModuleList):
    """The outputs ``[B, F_i]`` of its modules on the same input, side by side: ``[B, sum F_i]``."""

    def __init__(self, *modules: nn.Module):
        super().__init__(modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([module(x) for module in self], 1)


class TimeBins(nn.Module):
    """Position-aware pooling: mean over ``bins`` equal stretches of the sequence, then flatten.

    ``[B, C, L]`` -> ``[B, C * bins]``; keeps coarse position (where in the window) at small cost.
    """

    def __init__(self, bins: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool1d(bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x).flatten(1)


def dense_stack(n_in: int, widths, n_out: int, dropout: float, batch_norm: bool) -> nn.Sequential:
    """Hidden ReLU layers of ``widths`` (each Linear [-> BatchNorm] -> ReLU -> Dropout), then a Linear to ``n_out``."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [
            nn.Linear(n_in, width),
            nn.BatchNorm1d(width) if batch_norm else nn.Identity(),
            nn.ReLU(),
            nn.Dropout(dropout),
        ]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, n_out))


def as_list(value, n: int, name: str) -> list:
    """A per-block setting: a scalar applies to all ``n`` blocks; a list must have ``n`` entries."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise TypeError(f"{name} has {len(value)} entries for {n} blocks; give one per block or a single value")
        return list(value)
    return [value] * n
