"""Split stage: train/val/test stratified by class and grouped so that no group spans two splits.

Uses scikit-learn's StratifiedGroupKFold twice: once to hold out the test fold, once on the rest
to hold out validation. Fractions are approximate because whole groups move together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from .errors import GenomedlError
from .tables import read_tsv, write_json, write_tsv

SPLITS = ("train", "val", "test")
GROUP_COLUMNS = {"record": "accession", "gene": "gene_group"}


def _hold_out(labels: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a held-out fold of about ``fraction`` of the rows (whole groups, stratified)."""
    n_splits = max(2, int(round(1 / fraction)))
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        n_splits = n_groups
    if n_splits < 2:
        raise GenomedlError(f"only {n_groups} group(s) to split; grouped splitting needs at least 3 "
                            "(add records or set split.group_by to a finer key)")
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(labels)), labels, groups))
    mask = np.zeros(len(labels), dtype=bool)
    mask[held] = True
    return mask


def assign_splits(labels: pd.DataFrame, val: float, test: float, group_by: str, seed: int) -> pd.Series:
    """Return a Series of ``train``/``val``/``test`` aligned with ``labels``."""
    frame = labels.assign(gene_group=labels["accession"] + ":" + labels["gene"])
    if group_by not in GROUP_COLUMNS:
        raise GenomedlError(f"unknown split.group_by {group_by!r}; use one of {', '.join(GROUP_COLUMNS)}")
    groups = frame[GROUP_COLUMNS[group_by]].to_numpy()
    y = frame["label"].to_numpy()
    split = np.full(len(frame), "train", dtype=object)
    is_test = _hold_out(y, groups, test, seed)
    split[is_test] = "test"
    rest = np.flatnonzero(~is_test)
    is_val = _hold_out(y[rest], groups[rest], val / (1 - test), seed + 1)
    split[rest[is_val]] = "val"
    return pd.Series(split, index=labels.index, name="split")


def summarise(labels: pd.DataFrame, split: pd.Series, group_column: str) -> dict:
    """Class counts per split, groups per split and the leakage check (no group in two splits)."""
    frame = labels.assign(split=split.to_numpy())
    counts = frame.groupby(["split", "label"]).size().unstack(fill_value=0)
    splits_per_group = frame.groupby(group_column)["split"].nunique()
    leaked = sorted(splits_per_group[splits_per_group > 1].index)
    return {
        "class_counts": {s: {k: int(v) for k, v in counts.loc[s].items()} if s in counts.index else {}
                         for s in SPLITS},
        "groups": {s: int(frame.loc[frame["split"] == s, group_column].nunique()) for s in SPLITS},
        "group_key": group_column,
        "leakage": {"groups_in_two_splits": leaked, "ok": not leaked},
    }


def run_split(labels_path: Path, out_split: Path, out_summary: Path, val: float, test: float,
              group_by: str, seed: int, log=print) -> dict:
    labels = read_tsv(labels_path)
    split = assign_splits(labels, val, test, group_by, seed)
    column = GROUP_COLUMNS[group_by]
    summary = summarise(labels.assign(gene_group=labels["accession"] + ":" + labels["gene"]), split, column)
    summary.update({"seed": seed, "fractions": {"val": val, "test": test}, "group_by": group_by})
    missing = [s for s in SPLITS if not summary["class_counts"][s]]
    if missing:
        raise GenomedlError(f"{labels_path}: split {missing[0]} is empty; add records or lower the "
                            "split fractions (config keys split.val, split.test)")
    if not summary["leakage"]["ok"]:
        raise GenomedlError(f"groups {summary['leakage']['groups_in_two_splits'][:3]} are in two splits")
    write_tsv(pd.DataFrame({"id": labels["id"], "split": split}), out_split)
    write_json(summary, out_summary)
    log(f"split: {summary['class_counts']}")
    return summary
