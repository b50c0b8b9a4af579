"""CNN + BiLSTM hybrid (DanQ-like): motif scanners, then a bidirectional LSTM reading their order."""

from __future__ import annotations

import torch
import torch.nn as nn

from genomedl.models.cnn import conv_blocks, feature_shape
from genomedl.models.layers import dense_stack, one_hot
from genomedl.models.registry import register


@register("danq")
class DanQ(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]``.

    Defaults follow DanQ: 320 filters of 26 bp, max pool 13, dropout 0.2, a BiLSTM of 320 units, dropout
    0.5, the LSTM outputs at every position flattened (position-aware) into a dense layer of 925.
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        filters: int = 320,
        kernel: int = 26,
        pool: int = 13,
        lstm_hidden: int = 320,
        lstm_layers: int = 1,
        conv_dropout: float = 0.2,
        dropout: float = 0.5,
        hidden=(925,),
        rc_equivariant: bool = False,
        batch_norm: bool = False,
    ):
        super().__init__()
        self.features = conv_blocks(
            [filters],
            [kernel],
            [pool],
            padding="valid",
            batch_norm=batch_norm,
            dropout=conv_dropout,
            rc_equivariant=rc_equivariant,
        )
        channels, positions = feature_shape(self.features, length)
        self.lstm = nn.LSTM(
            channels,
            lstm_hidden,
            num_layers=lstm_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if lstm_layers > 1 else 0.0,
        )
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Flatten(),
            dense_stack(2 * lstm_hidden * positions, widths, n_classes, dropout=0.0, batch_norm=False),
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        features = self.features(one_hot(tokens)).transpose(1, 2)  # [B, L', filters]
        outputs, _ = self.lstm(features)  # [B, L', 2 * lstm_hidden]
        return self.head(outputs)
