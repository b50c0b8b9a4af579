"""Split strategies: each returns ``train``/``val``/``test`` per row of ``labels.tsv`` (object array ``[N]``).

- stratified_group: scikit-learn's StratifiedGroupKFold holds out test, then val from the rest.
- kfold: one outer test split (as stratified_group); StratifiedGroupKFold cuts the other rows into k folds,
  fold f is val and the rest train (cross-validation and ensembles, all evaluated on the same test rows).
- chromosome: named chromosomes (or records) form val and test.
- predefined: the labels' own ``split`` column (train / val|valid|validation|dev / test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from genomedl.choices import GROUP_BY, in_words
from genomedl.errors import GenomedlError
from genomedl.splits.loci import locus_keys

PREDEFINED_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
}


def group_key(labels: pd.DataFrame, group_by: str, settings: dict | None = None) -> tuple[str, np.ndarray]:
    """(description, key per row) for ``locus`` / ``record`` / ``gene`` / ``group`` / ``chromosome``.

    ``locus`` (:mod:`.loci`) takes ``settings["locus_flank"]`` and ``settings["locus_bin"]`` (bp) from the
    split section; ``chromosome`` uses a ``chrom`` column when labels.tsv has one, else the record accession.
    """
    if group_by == "locus":
        return "locus", locus_keys(labels, settings["locus_flank"], settings["locus_bin"])
    if group_by == "record":
        return "accession", labels["accession"].to_numpy(dtype=object)
    if group_by == "gene":
        return "accession:gene", (labels["accession"] + ":" + labels["gene"]).to_numpy(dtype=object)
    if group_by == "group":
        return "group", labels["group"].to_numpy(dtype=object)
    if group_by == "chromosome":
        column = "chrom" if "chrom" in labels.columns else "accession"
        return column, labels[column].to_numpy(dtype=object)
    raise GenomedlError(f"unknown split.group_by {group_by!r}; use {in_words(GROUP_BY)}")


def held_out_folds(n_splits: int, seed: int, y: np.ndarray, groups: np.ndarray) -> list[np.ndarray]:
    """Row indices of each StratifiedGroupKFold test fold. Its warning about classes rarer than ``n_splits``
    is silenced: run_split names a class that misses a split, with its counts."""
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return [held for _, held in splitter.split(np.zeros(len(y)), y, groups)]


def hold_out(y: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a held-out fold of about ``fraction`` of the rows (whole groups, stratified)."""
    n_groups = len(np.unique(groups))
    n_splits = min(max(2, int(round(1 / fraction))), n_groups)
    if n_splits < 2:
        raise GenomedlError(
            f"only {n_groups} group(s) to split; grouped splitting needs at least 3 "
            "(add records or set split.group_by to a finer key)"
        )
    held = held_out_folds(n_splits, seed, y, groups)[0]
    mask = np.zeros(len(y), dtype=bool)
    mask[held] = True
    return mask


def stratified_group(y: np.ndarray, groups: np.ndarray, val: float, test: float, seed: int) -> np.ndarray:
    split = np.full(len(y), "train", dtype=object)
    is_test = hold_out(y, groups, test, seed)
    split[is_test] = "test"
    rest = np.flatnonzero(~is_test)
    split[rest[hold_out(y[rest], groups[rest], val / (1 - test), seed + 1)]] = "val"
    return split


def kfold(y: np.ndarray, groups: np.ndarray, k: int, fold: int, test: float, seed: int) -> np.ndarray:
    """The outer test split of about ``test`` of the rows (the same for every fold); fold ``fold`` (0-based) of
    ``k`` stratified group folds of the other rows is val, the rest train."""
    if not 0 <= fold < k:
        raise GenomedlError(f"fold {fold} does not exist; split.k is {k} (folds 0...{k - 1})")
    split = np.full(len(y), "train", dtype=object)
    is_test = hold_out(y, groups, test, seed)
    split[is_test] = "test"
    rest = np.flatnonzero(~is_test)
    n_groups = len(np.unique(groups[rest]))
    if n_groups < k:
        raise GenomedlError(
            f"split.k is {k} but only {n_groups} groups are left beside the test split; lower split.k or group "
            "by a finer key (split.group_by)"
        )
    split[rest[held_out_folds(k, seed + 1, y[rest], groups[rest])[fold]]] = "val"
    return split


def chromosome_holdout(keys: np.ndarray, val_names: list[str], test_names: list[str], column: str) -> np.ndarray:
    """Rows whose ``column`` value is in ``test_names`` are test, in ``val_names`` val, the rest train."""
    overlap = sorted(set(val_names) & set(test_names))
    if overlap:
        raise GenomedlError(
            f"split.val_chromosomes and split.test_chromosomes both name {overlap}; "
            "a chromosome can be in one split only"
        )
    present = set(keys)
    missing = [c for c in [*val_names, *test_names] if c not in present]
    if missing or not val_names or not test_names:
        shown = ", ".join(sorted(present)[:10])
        raise GenomedlError(
            f"split.val_chromosomes / split.test_chromosomes must name values of the {column} "
            f"column; {missing or 'none given'} not found (available: {shown})"
        )
    split = np.full(len(keys), "train", dtype=object)
    split[np.isin(keys, val_names)] = "val"
    split[np.isin(keys, test_names)] = "test"
    return split


def predefined(column: pd.Series, origin: str) -> np.ndarray:
    """Map the labels' ``split`` column to train/val/test; unknown names are an error."""
    values = column.astype(str).str.strip().str.lower()
    unknown = sorted(set(values.unique()) - set(PREDEFINED_NAMES))
    if unknown:
        raise GenomedlError(f"{origin}: split column has {unknown[:3]}; use train, val (or valid/dev) and test")
    return values.map(PREDEFINED_NAMES).to_numpy(dtype=object)
