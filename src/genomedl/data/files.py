"""The files of a dataset that the model stages read, as one bundle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genomedl.paths import dataset_of


@dataclass(frozen=True)
class DatasetFiles:
    """tokens ``[N, L]`` uint8 (.npy), their meta (JSON: classes, length), labels.tsv, the split (TSV: id, split)
    and, where the workflow ran it, the quality gate's qc.json (its strand verdict steers ``rc_augment: auto``)."""

    tokens: Path
    meta: Path
    labels: Path
    split: Path
    qc: Path | None = None

    @property
    def dataset(self) -> str:
        """The dataset's name as its paths spell it (results/{dataset}/encoded/tokens.npy)."""
        return dataset_of(self.tokens)
