"""Train stage: one registry model fitted with Lightning (:mod:`genomedl.training`), checkpointed every epoch and
resumed after a kill; a collapse restarts from a fresh initialisation at a lower learning rate.

Writes ``model.ckpt`` (a plain dict of tensors and primitives, loadable with ``weights_only=True``),
``history.tsv`` (one row per epoch: losses, metrics, learning rate, gradient norms and flags) and
``run.json`` (provenance, best epoch, over/underfitting verdict, strands and why, collapsed attempts).
"""

from __future__ import annotations

from pathlib import Path

from genomedl.data.files import DatasetFiles
from genomedl.training.run import train_model


def run_train(dataset: DatasetFiles, out_dir: Path, name: str, settings: dict, seed: int, log=print) -> dict:
    """Train models entry ``name`` (``settings``: schema section ``model``) on ``dataset`` into ``out_dir``;
    ``rc_augment: auto`` follows the strand verdict of ``dataset.qc``."""
    return train_model(dataset, out_dir, name, settings, seed, log)
