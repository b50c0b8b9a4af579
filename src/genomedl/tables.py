"""Small helpers for the TSV and JSON files that pass between rules."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .atomic import atomic_write


def write_tsv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as a tab-separated file without index, atomically."""
    with atomic_write(path, newline="") as handle:
        frame.to_csv(handle, sep="\t", index=False, lineterminator="\n")


def read_tsv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a tab-separated file written by :func:`write_tsv` (ids and labels kept as strings)."""
    return pd.read_csv(path, sep="\t", keep_default_na=False, **kwargs)


def write_json(obj, path: str | Path) -> None:
    """Write ``obj`` as pretty, key-sorted JSON, atomically (sorted keys keep reruns byte-identical)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=2, sort_keys=True)
        handle.write("\n")


def read_json(path: str | Path):
    with open(path) as handle:
        return json.load(handle)
