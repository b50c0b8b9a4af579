"""Datasets for training and prediction: token rows selected by split, with integer labels (numpy; the
torch DataLoaders over them are in :mod:`genomedl.data.loaders`).

Tokens stay on disk: a split holds the row numbers of its windows in the memory-mapped ``tokens.npy``
(:class:`TokenRows`) and reads a batch's rows when it is indexed, so an array larger than RAM trains and
evaluates; labels and ids (a few bytes per window) are held in RAM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genomedl.data.files import DatasetFiles
from genomedl.encoding.tokens import load_tokens
from genomedl.errors import GenomedlError
from genomedl.tables import read_json, read_tsv


class TokenRows:
    """Rows ``rows`` of a token array ``[N, L]`` uint8 (memory-mapped or in RAM), read when indexed.

    An int, slice, integer array or boolean mask over the selected rows returns those rows in RAM
    (``[n, L]``, or ``[L]`` for an int), in the order asked for; the file is read in row order (the
    indices sorted), so a shuffled batch touches its pages front to back. ``np.asarray`` reads every
    selected row, for the consumers that need a whole split at once (the k-mer baseline, the GAN).
    """

    def __init__(self, source: np.ndarray, rows: np.ndarray | None = None):
        self.source = source
        self.rows = np.arange(len(source), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        self.shape, self.dtype, self.ndim = (len(self.rows), source.shape[1]), source.dtype, 2

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> np.ndarray:
        picked = self.rows[key]
        if np.ndim(picked) == 0:
            return np.array(self.source[picked])
        order = np.argsort(picked, kind="stable")
        out = np.empty((len(picked), self.shape[1]), dtype=self.dtype)
        out[order] = self.source[picked[order]]
        return out

    def __getstate__(self) -> dict:
        """Pickled (DataLoader workers started by spawn) as the file's path, not its contents."""
        filename = getattr(self.source, "filename", None)
        return {**self.__dict__, "source": Path(filename) if filename else self.source}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if isinstance(self.source, Path):
            self.source = load_tokens(self.source)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)


@dataclass
class SplitData:
    tokens: TokenRows | np.ndarray  # uint8 [n, L]
    labels: np.ndarray  # int64 [n]
    ids: list[str]


@dataclass
class Dataset:
    classes: list[str]
    length: int
    parts: dict[str, SplitData]  # "train" / "val" / "test"


def load_dataset(files: DatasetFiles) -> Dataset:
    """Join tokens (memory-mapped, see :class:`TokenRows`), labels and split (all in labels.tsv row order)
    into per-split rows."""
    meta = read_json(files.meta)
    tokens = load_tokens(files.tokens)
    labels = read_tsv(files.labels)
    split = read_tsv(files.split)
    if len(labels) != len(tokens) or not (labels["id"].to_numpy() == split["id"].to_numpy()).all():
        raise GenomedlError(f"{files.split} and {files.labels} disagree on ids; rerun the split stage")
    classes = list(meta["classes"])
    index = {name: i for i, name in enumerate(classes)}
    y = labels["label"].map(index).to_numpy(np.int64)
    parts = {}
    for name in ("train", "val", "test"):
        rows = np.flatnonzero(split["split"].to_numpy() == name)
        parts[name] = SplitData(TokenRows(tokens, rows), y[rows], labels["id"].iloc[rows].tolist())
    return Dataset(classes, int(meta["length"]), parts)
