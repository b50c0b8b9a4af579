"""Recurrent classifiers: vanilla RNN, LSTM and GRU over the one-hot window, uni- or bidirectional."""

from __future__ import annotations

import torch
import torch.nn as nn

from genomedl.models.layers import TimeBins, dense_stack, one_hot
from genomedl.models.registry import register

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def time_pooling(pooling: str, bins: int) -> tuple[nn.Module | None, int]:
    """Pooling over time of ``[B, H, L]`` outputs and the factor it multiplies H by.

    "bins" (default): means over ``bins`` stretches, flattened (position-aware); "mean", "max": over all
    positions; "last": the final state of each direction (handled by the caller: returns None).
    """
    if pooling == "bins":
        return TimeBins(bins), bins
    if pooling in ("mean", "max"):
        pool = nn.AdaptiveAvgPool1d(1) if pooling == "mean" else nn.AdaptiveMaxPool1d(1)
        return nn.Sequential(pool, nn.Flatten()), 1
    if pooling == "last":
        return None, 1
    raise TypeError("pooling must be 'bins', 'mean', 'max' or 'last'")


class Recurrent(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]`` through a stacked recurrent network."""

    cell = "lstm"

    def __init__(
        self,
        length: int,
        n_classes: int,
        hidden_size: int = 128,
        layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "bins",
        bins: int = 8,
        dropout: float = 0.2,
        hidden=(128,),
    ):
        super().__init__()
        self.rnn = CELLS[self.cell](
            4,
            hidden_size,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.directions = 2 if bidirectional else 1
        self.pool, factor = time_pooling(pooling, bins)
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            dense_stack(hidden_size * self.directions * factor, widths, n_classes, dropout, batch_norm=False),
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        outputs, state = self.rnn(one_hot(tokens).transpose(1, 2))  # [B, L, H * directions]
        if self.pool is None:
            final = state[0] if isinstance(state, tuple) else state  # [layers * dirs, B, H]
            pooled = final[-self.directions :].transpose(0, 1).flatten(1)
        else:
            pooled = self.pool(outputs.transpose(1, 2))
        return self.head(pooled)


@register("rnn")
class RNN(Recurrent):
    """Elman RNN (tanh); see :class:`Recurrent` for the hyperparameters."""

    cell = "rnn"


@register("lstm")
class LSTM(Recurrent):
    """LSTM (default bidirectional); see :class:`Recurrent` for the hyperparameters."""

    cell = "lstm"


@register("gru")
class GRU(Recurrent):
    """GRU; see :class:`Recurrent` for the hyperparameters."""

    cell = "gru"
