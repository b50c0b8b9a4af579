"""Transformer encoder classifier on nucleotide or k-mer tokens.

Attention runs through PyTorch's fused ``scaled_dot_product_attention``; with ``return_attention``
the weights are computed explicitly instead and returned for interpretation. Positions: "learned"
(an embedding per position), "sinusoidal" (fixed) or "rotary" (RoPE on queries and keys). The
classifier reads the CLS token, which attends to every position with its position encoded.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from genomedl.encoding.kmers import CLS, SEP, UNK
from genomedl.encoding.tokenizer import FIRST_KMER, kmer_ids, n_tokens, vocab
from genomedl.models.layers import one_hot
from genomedl.models.registry import register

POSITIONS = ("learned", "sinusoidal", "rotary")
STEMS = ("embedding", "conv")


def sinusoidal(length: int, width: int) -> torch.Tensor:
    """Fixed sine/cosine position codes ``[length, width]`` (width even)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    codes = torch.zeros(length, width)
    codes[:, 0::2], codes[:, 1::2] = torch.sin(position * freq), torch.cos(position * freq)
    return codes


def rotary_tables(length: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin ``[length, dim // 2]`` of the rotary angles position * 10000^(-2i/dim)."""
    freq = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    angles = torch.arange(length, dtype=torch.float32)[:, None] * freq
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Apply RoPE to ``[B, H, T, D]``: each pair (x_i, x_{i+D/2}) is rotated by its position's angle."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1).to(x.dtype)


class Attention(nn.Module):
    """Multi-head self-attention ``[B, T, W]`` -> ``[B, T, W]`` (+ weights ``[B, H, T, T]`` on request)."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, rotary=None, need_weights: bool = False):
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        if rotary is not None:
            q, k = rotate(q, *rotary), rotate(k, *rotary)
        weights = None
        if need_weights:
            weights = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)
            context = F.dropout(weights, self.dropout, self.training) @ v
        else:
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.out(context.transpose(1, 2).reshape(batch, length, width)), weights


class Block(nn.Module):
    """Pre-norm encoder block: x + attention(LN x), then x + feed-forward(LN x)."""

    def __init__(self, width: int, heads: int, ff_mult: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = Attention(width, heads, dropout)
        self.ff = nn.Sequential(
            nn.Linear(width, ff_mult * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_mult * width, width)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, rotary=None, need_weights: bool = False):
        update, weights = self.attention(self.norm1(x), rotary, need_weights)
        x = x + self.drop(update)
        return x + self.drop(self.ff(self.norm2(x))), weights


@register("transformer")
class Transformer(nn.Module):
    """tokens ``[B, L]`` uint8 (or, for k = 1, float one-hot ``[B, 4, L]``) -> logits ``[B, n_classes]``.

    k: 1 = single nucleotides, 3...6 = k-mers (``overlapping`` stride 1, else stride k), ids as in
    :mod:`genomedl.encoding.tokenizer`; width: model dimension (divisible by heads, even); depth: blocks;
    ff_mult: feed-forward width / width; positions: "learned", "sinusoidal" or "rotary".
    stem: "embedding" (a vector per token id) or "conv" (k = 1: a convolution of ``stem_kernel`` bp over the one-hot
    bases, batch norm, GELU and a max pool of ``stem_pool``, so attention runs over ``ceil(L / stem_pool)``
    motif-detector positions after a CLS token: a local prior that small data needs).
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        k: int = 1,
        overlapping: bool = True,
        width: int = 128,
        depth: int = 4,
        heads: int = 4,
        ff_mult: int = 4,
        dropout: float = 0.1,
        positions: str = "learned",
        stem: str = "embedding",
        stem_kernel: int = 15,
        stem_pool: int = 4,
    ):
        super().__init__()
        if positions not in POSITIONS or stem not in STEMS:
            raise TypeError(f"positions must be one of {', '.join(POSITIONS)} and stem one of {', '.join(STEMS)}")
        if width % heads or (width // heads) % 2:
            raise TypeError("width must be a multiple of heads with an even width per head")
        if stem == "conv" and (k != 1 or stem_kernel % 2 == 0):
            raise TypeError("stem conv reads single bases (k 1) with an odd stem_kernel")
        self.k, self.overlapping, self.positions, self.stem_kind = k, overlapping, positions, stem
        if stem == "conv":
            tokens = -(-length // stem_pool) + 1  # pooled positions after a CLS token
            self.stem = nn.Sequential(
                nn.Conv1d(4, width, stem_kernel, padding=stem_kernel // 2),
                nn.BatchNorm1d(width),
                nn.GELU(),
                nn.MaxPool1d(stem_pool, ceil_mode=True),
            )
            self.cls = nn.Parameter(torch.zeros(1, 1, width))
        else:
            tokens = n_tokens(length, k, overlapping)
            self.embed = nn.Embedding(len(vocab(k)), width)
        if positions == "learned":
            self.position = nn.Parameter(torch.randn(tokens, width) * 0.02)
        else:
            self.register_buffer("position", sinusoidal(tokens, width), persistent=False)
        cos, sin = rotary_tables(tokens, width // heads)
        self.register_buffer("rot_cos", cos, persistent=False)
        self.register_buffer("rot_sin", sin, persistent=False)
        self.blocks = nn.ModuleList(Block(width, heads, ff_mult, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_classes)

    def embed_input(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[B, T, W]`` of uint8 tokens ``[B, L]``, or (k = 1) of a float one-hot ``[B, 4, L]``.

        The one-hot path is exact (an all-zero column is N, i.e. UNK) and differentiable, for attributions.
        """
        if self.stem_kind == "conv":
            bases = tokens if tokens.is_floating_point() else one_hot(tokens)
            positions = self.stem(bases).transpose(1, 2)  # [B, T - 1, W]
            return torch.cat([self.cls.expand(len(positions), 1, -1), positions], dim=1)
        if not tokens.is_floating_point():
            return self.embed(kmer_ids(tokens, self.k, self.overlapping))
        if self.k != 1:
            raise TypeError("a k-mer transformer reads token ids, not one-hot input")
        weight = self.embed.weight
        bases = tokens.transpose(1, 2)  # [B, L, 4]
        body = bases @ weight[FIRST_KMER : FIRST_KMER + 4] + (1 - bases.sum(-1, keepdim=True)) * weight[UNK]
        edge = lambda i: weight[i].expand(len(bases), 1, -1)  # noqa: E731
        return torch.cat([edge(CLS), body, edge(SEP)], dim=1)

    def attention_maps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Attention weights of the last block ``[B, H, T, T]`` (the interpret stage's hook)."""
        return self(tokens, return_attention=True)[1][:, -1]

    def forward(self, tokens: torch.Tensor, return_attention: bool = False):
        """Logits ``[B, C]``; with ``return_attention`` also weights ``[B, depth, H, T, T]`` (T = ids per window)."""
        x = self.embed_input(tokens)
        rotary = None
        if self.positions == "rotary":
            rotary = (self.rot_cos, self.rot_sin)
        else:
            x = x + self.position
        maps = []
        for block in self.blocks:
            x, weights = block(x, rotary, return_attention)
            maps.append(weights)
        logits = self.head(self.norm(x[:, 0]))
        return (logits, torch.stack(maps, 1)) if return_attention else logits
