"""Finetune stage: train a ``bert`` registry model (pretrained encoder + classification head) with the
same Lightning engine as every other model, so that evaluate and report treat it like any model."""

from __future__ import annotations

from pathlib import Path

from genomedl.data.files import DatasetFiles
from genomedl.training.run import finetune_settings, train_model


def run_finetune(
    dataset: DatasetFiles, out_dir: Path, name: str, settings: dict, seed: int, encoder: str | None = None, log=print
) -> dict:
    """Fine-tune (or, with ``from_scratch``, train) model ``name``; ``encoder`` overrides ``settings["encoder"]``
    (the workflow passes the pretrain stage's folder for ``encoder: pretrain``)."""
    return train_model(dataset, out_dir, name, finetune_settings(name, settings, encoder), seed, log)
