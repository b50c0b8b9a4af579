"""Convolutional classifier (Basset/DeepSEA-like): conv blocks, then a dense head over the
flattened feature map, so that the model knows *where* in the window a signal sits."""

from __future__ import annotations

import torch
import torch.nn as nn

from . import register
from .layers import RCConv1d, as_list, dense_stack, one_hot


def conv_blocks(
    filters,
    kernels,
    pools,
    strides=1,
    dilations=1,
    padding: str = "same",
    pool_type: str = "max",
    batch_norm: bool = True,
    dropout: float = 0.2,
    rc_equivariant: bool = False,
) -> nn.Sequential:
    """Conv -> [BatchNorm] -> ReLU -> Pool -> Dropout blocks on one-hot ``[B, 4, L]``.

    filters/kernels/pools: one entry per block (pool 1 = no pooling); strides/dilations: one per block or
    one for all; padding "same" (keeps length at stride 1) or "valid"; pool_type "max" or "avg";
    rc_equivariant: the first convolution scans both strands (:class:`~.layers.RCConv1d`).
    """
    n = len(filters)
    kernels, pools = as_list(kernels, n, "kernels"), as_list(pools, n, "pools")
    strides, dilations = as_list(strides, n, "strides"), as_list(dilations, n, "dilations")
    if padding not in ("same", "valid") or pool_type not in ("max", "avg"):
        raise TypeError("padding must be 'same' or 'valid' and pool_type 'max' or 'avg'")
    if rc_equivariant and (kernels[0] % 2 == 0 or strides[0] != 1):
        raise TypeError("rc_equivariant needs an odd first kernel and stride 1")
    pool_cls = nn.MaxPool1d if pool_type == "max" else nn.AvgPool1d
    blocks, channels = [], 4
    for i, (width, kernel, pool, stride, dilation) in enumerate(zip(filters, kernels, pools, strides, dilations)):
        conv_cls = RCConv1d if (rc_equivariant and i == 0) else nn.Conv1d
        pad = dilation * (kernel - 1) // 2 if padding == "same" else 0
        blocks += [
            conv_cls(channels, width, kernel, stride=stride, padding=pad, dilation=dilation),
            nn.BatchNorm1d(width) if batch_norm else nn.Identity(),
            nn.ReLU(),
        ]
        if pool > 1:
            blocks.append(pool_cls(pool, ceil_mode=True))
        blocks.append(nn.Dropout(dropout))
        channels = width
    return nn.Sequential(*blocks)


def feature_shape(features: nn.Module, length: int) -> tuple[int, int]:
    """(channels, positions) that ``features`` makes of a ``length``-bp one-hot window."""
    try:
        with torch.no_grad():
            shape = features.eval()(torch.zeros(1, 4, length)).shape
    except RuntimeError as exc:
        raise TypeError(
            f"the conv blocks do not fit a {length} bp window ({exc}); use fewer or smaller kernels, pools or strides"
        ) from None
    features.train()
    return shape[1], shape[2]


@register("cnn")
class CNN(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]``.

    Defaults follow Basset (3 conv blocks of 300/200/200 filters, two dense layers of 1000).
    head: "flatten" (position-aware, default) or "global" (max over positions, position-blind).
    hidden: widths of the dense layers (a single int = one layer).
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        filters=(300, 200, 200),
        kernels=(19, 11, 7),
        pools=(3, 4, 4),
        strides=1,
        dilations=1,
        padding: str = "same",
        pool_type: str = "max",
        hidden=(1000, 1000),
        dropout: float = 0.3,
        batch_norm: bool = True,
        rc_equivariant: bool = False,
        head: str = "flatten",
    ):
        super().__init__()
        if head not in ("flatten", "global"):
            raise TypeError("head must be 'flatten' or 'global'")
        self.features = conv_blocks(
            filters, kernels, pools, strides, dilations, padding, pool_type, batch_norm, dropout, rc_equivariant
        )
        channels, positions = feature_shape(self.features, length)
        pool = nn.Flatten() if head == "flatten" else nn.Sequential(nn.AdaptiveMaxPool1d(1), nn.Flatten())
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        n_in = channels * positions if head == "flatten" else channels
        self.head = nn.Sequential(pool, dense_stack(n_in, widths, n_classes, dropout, batch_norm=False))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(one_hot(tokens)))
