"""Model registry: every model maps uint8 tokens ``[B, L]`` to logits ``[B, C]``.

Models register themselves by name with :func:`register`; hyperparameters come from the config. The built-in
architectures are imported when a model is first asked for (:func:`load_builtins`), so that the torch-free parts of
:mod:`genomedl.models` (the classic baselines) load no torch.
"""

from __future__ import annotations

import inspect
from typing import Callable

from genomedl.errors import GenomedlError

_REGISTRY: dict[str, Callable] = {}


def register(name: str):
    """Class decorator: make a model constructible by ``name`` from config."""

    def wrap(cls):
        _REGISTRY[name] = cls
        return cls

    return wrap


def load_builtins() -> None:
    """Import the built-in architectures: each registers itself."""
    from genomedl.models import bert, cnn, dnn, hybrid, rnn, transformer  # noqa: F401


def build_model(arch: str, *, length: int, n_classes: int, **hyper):
    """Construct the registered model ``arch`` for windows of ``length`` bp and ``n_classes`` classes."""
    load_builtins()
    if arch not in _REGISTRY:
        raise GenomedlError(
            f"unknown model architecture {arch!r} (config key models.<name>.arch); "
            f"choose one of {', '.join(sorted(_REGISTRY))}"
        )
    try:
        return _REGISTRY[arch](length=length, n_classes=n_classes, **hyper)
    except TypeError as exc:
        raise GenomedlError(f"model {arch}: {exc} (check models.<name> hyperparameters)") from None


def full_hyperparameters(arch: str, hyper: dict) -> dict:
    """``hyper`` with every other constructor argument of ``arch`` at its current default: what a checkpoint
    stores, so that a later change of a default does not change the model it rebuilds."""
    load_builtins()
    bound = inspect.signature(_REGISTRY[arch]).bind_partial(**hyper)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in ("length", "n_classes", "kwargs")}


def available() -> list[str]:
    load_builtins()
    return sorted(_REGISTRY)


def model_class(arch: str) -> Callable:
    """The class registered as ``arch``."""
    load_builtins()
    return _REGISTRY[arch]
