"""Datasets for training and prediction: token rows selected by split, with integer labels (numpy; the
torch DataLoaders over them are in :mod:`genomedl.loaders`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .encode import load_tokens
from .errors import GenomedlError
from .tables import read_json, read_tsv


@dataclass
class SplitData:
    tokens: np.ndarray  # uint8 [n, L]
    labels: np.ndarray  # int64 [n]
    ids: list[str]


@dataclass
class Dataset:
    classes: list[str]
    length: int
    parts: dict[str, SplitData]  # "train" / "val" / "test"


def load_dataset(tokens_path: Path, meta_path: Path, labels_path: Path, split_path: Path) -> Dataset:
    """Join tokens, labels and split (all in labels.tsv row order) into per-split arrays."""
    meta = read_json(meta_path)
    tokens = load_tokens(tokens_path)
    labels = read_tsv(labels_path)
    split = read_tsv(split_path)
    if len(labels) != len(tokens) or not (labels["id"].to_numpy() == split["id"].to_numpy()).all():
        raise GenomedlError(f"{split_path} and {labels_path} disagree on ids; rerun the split stage")
    classes = list(meta["classes"])
    index = {name: i for i, name in enumerate(classes)}
    y = labels["label"].map(index).to_numpy(np.int64)
    parts = {}
    for name in ("train", "val", "test"):
        rows = np.flatnonzero(split["split"].to_numpy() == name)
        parts[name] = SplitData(np.ascontiguousarray(tokens[rows]), y[rows], labels["id"].iloc[rows].tolist())
    return Dataset(classes, int(meta["length"]), parts)
