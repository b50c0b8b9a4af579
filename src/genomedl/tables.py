"""Small helpers for the TSV and JSON files that pass between rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from genomedl.atomic import atomic_write


def write_tsv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as a tab-separated file without index, atomically."""
    with atomic_write(path, newline="") as handle:
        frame.to_csv(handle, sep="\t", index=False, lineterminator="\n")


STRING_COLUMNS = ("id", "label", "split", "group", "accession", "gene")  # always text, even "0"/"1"


def read_tsv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a tab-separated file written by :func:`write_tsv` (ids, labels, splits and groups kept as strings)."""
    dtype = kwargs.pop("dtype", None)
    if not isinstance(dtype, (dict, type(None))):
        return pd.read_csv(path, sep="\t", keep_default_na=False, dtype=dtype, **kwargs)
    return pd.read_csv(
        path, sep="\t", keep_default_na=False, dtype=dict.fromkeys(STRING_COLUMNS, str) | (dtype or {}), **kwargs
    )


def natural_sorted(names) -> list[str]:
    """Class names in natural order ("2" < "10", "class2" < "class10"), as strings."""

    def key(name: str):
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]

    return sorted(map(str, names), key=key)


def write_json(obj, path: str | Path) -> None:
    """Write ``obj`` as pretty, key-sorted JSON, atomically (sorted keys keep reruns byte-identical)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=2, sort_keys=True)
        handle.write("\n")


def read_json(path: str | Path):
    with open(path) as handle:
        return json.load(handle)
