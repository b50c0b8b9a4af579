"""Model registry: every model maps uint8 tokens ``[B, L]`` to logits ``[B, C]``.

Models register themselves by name with :func:`register`; hyperparameters come from the config.
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ..errors import GenomedlError

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str):
    """Class decorator: make a model constructible by ``name`` from config."""
    def wrap(cls):
        _REGISTRY[name] = cls
        return cls
    return wrap


def build_model(arch: str, *, length: int, n_classes: int, **hyper) -> nn.Module:
    """Construct the registered model ``arch`` for windows of ``length`` bp and ``n_classes`` classes."""
    if arch not in _REGISTRY:
        raise GenomedlError(f"unknown model architecture {arch!r} (config key models.<name>.arch); "
                            f"choose one of {', '.join(sorted(_REGISTRY))}")
    try:
        return _REGISTRY[arch](length=length, n_classes=n_classes, **hyper)
    except TypeError as exc:
        raise GenomedlError(f"model {arch}: {exc} (check models.<name> hyperparameters)") from None


def available() -> list[str]:
    return sorted(_REGISTRY)


from . import cnn  # noqa: E402,F401  (registers the built-in architectures)
