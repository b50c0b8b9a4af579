"""Models: the registry of architectures (:mod:`.registry`), the architectures themselves, their layers, the
classic baselines (:mod:`.baselines`) and the portable programs the export stage writes (:mod:`.portable`)."""

from genomedl.models.registry import available, build_model, full_hyperparameters, model_class, register

__all__ = ["available", "build_model", "full_hyperparameters", "model_class", "register"]
