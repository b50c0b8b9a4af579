"""Attributions ``[N, 4, L]`` (float32) of a model's class logits to its one-hot input.

Models take uint8 tokens, but every registry model also accepts a float one-hot ``[B, 4, L]``
(:func:`genomedl.models.layers.one_hot` passes it through), which gives the gradients these methods
need. Attributions are for the forward strand of each window and the logit of ``target`` (one class
per window). Methods: ``saliency`` (gradient x input, captum), ``integrated_gradients`` (captum,
all-N reference), ``deeplift_shap`` (tangermeme, dinucleotide-shuffled references) and ``ism``
(in-silico saturation mutagenesis, tangermeme; change of the target logit, mean over the three
substitutions subtracted, projected onto the observed base).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch
import torch.nn as nn

from genomedl.choices import ATTRIBUTION_METHODS
from genomedl.models.layers import Concat, Residual

# layers DeepLIFT handles exactly (tangermeme's rules for the non-linear ones); matched by exact type
DEEPLIFT_LAYERS = (
    nn.Conv1d,
    nn.Linear,
    nn.BatchNorm1d,
    nn.Dropout,
    nn.Flatten,
    nn.Identity,
    nn.AvgPool1d,
    nn.AdaptiveAvgPool1d,
    nn.Sequential,
    nn.ModuleList,
    nn.ReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
    nn.MaxPool1d,
    nn.Softmax,
    nn.LayerNorm,
    Residual,  # x + body(x) and torch.cat: linear, so the multipliers pass through them as gradients do
    Concat,
)


def one_hot_inputs(tokens: np.ndarray) -> torch.Tensor:
    """uint8 tokens ``[N, L]`` -> float32 one-hot ``[N, 4, L]`` (N bases all zero)."""
    from genomedl.models.layers import one_hot

    return one_hot(torch.from_numpy(np.ascontiguousarray(tokens)))


def accepts_one_hot(model: torch.nn.Module, length: int) -> bool:
    """True when ``model`` maps a float one-hot ``[1, 4, L]`` to logits that depend on it differentiably."""
    x = torch.full((1, 4, length), 0.25, requires_grad=True)
    try:
        out = model(x)
    except (RuntimeError, TypeError, IndexError, ValueError):
        return False
    return out.requires_grad


def deeplift_unsupported(model: nn.Module) -> list[str]:
    """Layer types of ``model`` without an exact DeepLIFT rule (empty: DeepLIFT/SHAP applies)."""
    return sorted({type(m).__name__ for m in model.modules() if type(m) not in DEEPLIFT_LAYERS and m is not model})


@contextlib.contextmanager
def unpooling_allowed():
    """tangermeme's max-pool rule calls max_unpool1d, which torch lists as nondeterministic: in a process with
    deterministic algorithms on (a caller's setting) it would raise. Warn-only, and that warning silenced, while
    attributing; the previous setting is restored."""
    enabled, warn_only = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="max_unpooling")
            yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _captum(method: str, model, x: torch.Tensor, target: torch.Tensor, steps: int) -> torch.Tensor:
    from captum.attr import InputXGradient, IntegratedGradients

    if method == "saliency":
        return InputXGradient(model).attribute(x, target=target)
    return IntegratedGradients(model).attribute(
        x, baselines=torch.zeros_like(x), target=target, n_steps=steps, internal_batch_size=64
    )


def attribute(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: np.ndarray,
    method: str,
    seed: int = 0,
    steps: int = 32,
    shuffles: int = 10,
) -> np.ndarray:
    """Attributions ``[N, 4, L]`` of one-hot ``x [N, 4, L]`` to the logits of classes ``target [N]``."""
    model = model.eval()
    target = np.asarray(target)
    out = np.zeros(tuple(x.shape), dtype=np.float32)
    for cls in np.unique(target):
        rows = np.flatnonzero(target == cls)
        part = x[rows].clone().requires_grad_(method in ("saliency", "integrated_gradients"))
        if method in ("saliency", "integrated_gradients"):
            value = _captum(method, model, part, torch.full((len(rows),), int(cls)), steps)
        elif method == "deeplift_shap":
            from tangermeme.deep_lift_shap import deep_lift_shap

            with unpooling_allowed():
                value = deep_lift_shap(
                    model,
                    part.detach(),
                    target=int(cls),
                    n_shuffles=shuffles,
                    random_state=seed,
                    warning_threshold=1e-2,
                    only_warn=True,
                )
        elif method == "ism":
            from tangermeme.saturation_mutagenesis import saturation_mutagenesis

            value = saturation_mutagenesis(model, part.detach(), target=int(cls), fast=False)
        else:
            raise ValueError(f"unknown attribution method {method!r}; choose from {', '.join(ATTRIBUTION_METHODS)}")
        out[rows] = value.detach().float().numpy()
    return out
