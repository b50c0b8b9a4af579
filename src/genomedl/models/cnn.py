"""Convolutional classifier: conv blocks (by default a motif layer, then residual dilated blocks), then a
dense head over the flattened feature map, so that the model knows *where* in the window a signal sits,
and (head "mixed", the default) over the max and mean of each feature, for signals anywhere in the window
and for composition."""

from __future__ import annotations

import torch
import torch.nn as nn

from genomedl.models.layers import Concat, RCConv1d, Residual, as_list, dense_stack, one_hot
from genomedl.models.registry import register


def conv_blocks(
    filters,
    kernels,
    pools,
    strides=1,
    dilations=None,
    padding: str = "same",
    pool_type: str = "max",
    batch_norm: bool = True,
    dropout: float = 0.2,
    rc_equivariant: bool = False,
    residual: bool = False,
) -> nn.Sequential:
    """Conv -> [BatchNorm] -> ReLU -> Pool -> Dropout blocks on one-hot ``[B, 4, L]``.

    filters/kernels/pools: one entry per block (pool 1 = no pooling); strides/dilations: one per block or
    one for all (dilations None: 1 for the first block, then doubling from 1: 1, 1, 2, 4, ...); padding
    "same" (keeps length at stride 1) or "valid"; pool_type "max" or "avg";
    rc_equivariant: the first convolution scans both strands (:class:`~.layers.RCConv1d`);
    residual: a block that keeps the shape (as many filters as its input, odd kernel, stride 1, "same")
    adds its input to its output before pooling (:class:`~.layers.Residual`).
    """
    n = len(filters)
    kernels, pools = as_list(kernels, n, "kernels"), as_list(pools, n, "pools")
    dilations = [1] + [2**i for i in range(n - 1)] if dilations is None else dilations
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
        body = [
            conv_cls(channels, width, kernel, stride=stride, padding=pad, dilation=dilation),
            nn.BatchNorm1d(width) if batch_norm else nn.Identity(),
            nn.ReLU(),
        ]
        keeps_shape = width == channels and kernel % 2 == 1 and stride == 1 and padding == "same"
        blocks += [Residual(nn.Sequential(*body))] if residual and keeps_shape else body
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


CNN_HEADS = ("flatten", "global", "pooled", "mixed")


def pooling(head: str, positions: int) -> nn.Module:
    """Feature map ``[B, C, L]`` -> head input: "flatten" ``[B, C * L]`` (where each feature sits), "global"
    ``[B, C]`` (max over positions), "pooled" ``[B, 2 * C]`` (max and mean over positions: position-free),
    "mixed" ``[B, C * (L + 2)]`` (flattened, plus the max and the mean over positions: position-bound and
    position-free signals, and composition). Built from standard pooling layers
    (``L`` = ``positions``), so attribution methods see layers they know."""
    if head == "flatten":
        return nn.Flatten()
    if head == "global":
        return nn.Sequential(nn.AdaptiveMaxPool1d(1), nn.Flatten())
    max_and_mean = [
        nn.Sequential(nn.MaxPool1d(positions), nn.Flatten()),
        nn.Sequential(nn.AvgPool1d(positions), nn.Flatten()),
    ]
    if head == "pooled":
        return Concat(*max_and_mean)
    return Concat(nn.Flatten(), *max_and_mean)


@register("cnn")
class CNN(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]``.

    Defaults (chosen on benchmarks/QUALITY.md, "Recipe selection"): a 15-bp motif layer of 128 filters, three
    residual blocks of 128 filters (kernel 5, dilations 1, 2, 4; max pool 2 after each), one dense layer of 256,
    dropout 0.1.
    The Basset layout is ``filters=[300, 200, 200], kernels=[19, 11, 7], pools=[3, 4, 4], hidden=[1000, 1000],
    dilations=1, dropout=0.3, head="flatten", residual=False``.
    head: "flatten" (position-aware), "global" (max over positions, position-blind), "pooled" (max and mean over
    positions) or "mixed" (default: flatten and pooled; :func:`pooling`). The workflow's ``head: auto`` picks
    "pooled" or "mixed" from the quality gate (:func:`genomedl.training.run.head_setting`).
    hidden: widths of the dense layers (a single int = one layer); dense_batch_norm: batch normalisation before each
    dense layer's ReLU.
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        filters=(128, 128, 128, 128),
        kernels=(15, 5, 5, 5),
        pools=(1, 2, 2, 2),
        strides=1,
        dilations=None,
        padding: str = "same",
        pool_type: str = "max",
        hidden=(256,),
        dropout: float = 0.1,
        batch_norm: bool = True,
        rc_equivariant: bool = False,
        head: str = "mixed",
        residual: bool = True,
        dense_batch_norm: bool = False,
    ):
        super().__init__()
        if head not in CNN_HEADS:
            raise TypeError(f"head must be one of {', '.join(CNN_HEADS)}")
        self.features = conv_blocks(
            filters,
            kernels,
            pools,
            strides,
            dilations,
            padding,
            pool_type,
            batch_norm,
            dropout,
            rc_equivariant,
            residual,
        )
        channels, positions = feature_shape(self.features, length)
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        n_in = {"flatten": positions, "global": 1, "pooled": 2, "mixed": positions + 2}[head] * channels
        self.head = nn.Sequential(
            pooling(head, positions), dense_stack(n_in, widths, n_classes, dropout, dense_batch_norm)
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(one_hot(tokens)))
