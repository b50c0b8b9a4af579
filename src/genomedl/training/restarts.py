"""Restarts after a collapse (:func:`genomedl.training.diagnostics.collapse`): each from a fresh initialisation
(a derived seed) at a third of the previous learning rate, recorded beside the checkpoints so that a killed run
resumes at its attempt; one line when the last attempt collapses too."""

from __future__ import annotations

from pathlib import Path

from genomedl.tables import read_json

RESTART_LR_FACTOR = 1 / 3  # each restart after a collapse: a fresh initialisation at a third of the learning rate


RESTART_SEED_STEP = 1_000_003  # ... with the seed moved on by this (attempt k: seed + k * step)


def restart_settings(settings: dict, seed: int, attempt: int) -> tuple[dict, int]:
    """The settings and seed of training attempt ``attempt`` (0 = the first): each restart after a collapse
    trains from a fresh initialisation (a derived seed) at ``RESTART_LR_FACTOR`` times the previous lr."""
    if not attempt:
        return settings, seed
    return {**settings, "lr": settings["lr"] * RESTART_LR_FACTOR**attempt}, seed + RESTART_SEED_STEP * attempt


def restarts_path(ckpt_dir: Path) -> Path:
    """Where the collapsed attempts of a run in progress are kept (beside the checkpoints, removed at the end)."""
    return ckpt_dir.with_suffix(".restarts.json")


def earlier_restarts(ckpt_dir: Path, stamp: dict) -> list[dict]:
    """The collapsed attempts that a killed run of the same settings recorded (:func:`restarts_path`)."""
    path = restarts_path(ckpt_dir)
    if not path.exists():
        return []
    kept = read_json(path)
    return list(kept["restarts"]) if kept.get("stamp") == stamp else []


def collapse_message(name: str, dataset: str, restarts: list[dict]) -> str:
    """One line: the model did not learn, and every attempt's learning rate and why it was stopped."""
    tried = "; ".join(f"lr {r['lr']:.3g} (seed {r['seed']}): {r['reason']}" for r in restarts)
    return (
        f"model {name} of dataset {dataset} did not learn in {len(restarts)} attempt{'s' * (len(restarts) > 1)} "
        "from fresh initialisations: "
        f"{tried}; check that the labels follow the sequences (compare the baselines), or change models.{name}.lr "
        f"or models.{name}.arch"
    )
