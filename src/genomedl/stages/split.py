"""Split stage: train/val/test by a configured strategy, then leakage guards on the result.

Strategies (:mod:`.strategies`): stratified_group (default), kfold, chromosome, predefined; ``auto``
uses the labels' ``split`` column when there is one (with no val rows, a ``split.val`` fraction of train becomes
val, stratified and by group). Guards (:mod:`.guards`): no group in two splits,
no identical or reverse-complement-identical window in two splits, class balance. A broken guard stops
the run with one line unless ``split.allow`` names it. Fractions are approximate: whole groups move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.choices import SPLIT_STRATEGIES, in_words
from genomedl.config import stage_settings
from genomedl.encoding.tokens import load_tokens
from genomedl.errors import GenomedlError
from genomedl.splits import strategies
from genomedl.splits.guards import SPLITS, class_balance, leakage, merge_duplicate_groups, strand_hashes
from genomedl.tables import natural_sorted, read_tsv, write_json, write_tsv
from genomedl.windows.dedupe import waived_guards

GUARDS = {
    "group_overlap": "n_groups_in_two_splits",
    "identical_sequence": "identical_windows_in_two_splits",
    "reverse_complement": "reverse_complement_windows_in_two_splits",
}


def resolve_strategy(labels: pd.DataFrame, strategy: str) -> str:
    """``auto`` -> ``predefined`` when labels.tsv carries a non-empty split column, else ``stratified_group``."""
    if strategy != "auto":
        return strategy
    has_column = "split" in labels.columns and (labels["split"].astype(str).str.strip() != "").all()
    return "predefined" if has_column else "stratified_group"


def assign_splits(
    labels: pd.DataFrame,
    settings: dict,
    seed: int,
    canonical: np.ndarray | None = None,
    fold: int = 0,
    origin: str = "labels.tsv",
) -> tuple[np.ndarray, dict]:
    """train/val/test per row (object ``[N]``) and what was done (strategy, group key, merged groups)."""
    settings = stage_settings("split", settings, "datasets.<name>.split")
    strategy = resolve_strategy(labels, settings["strategy"])
    group_by = "chromosome" if strategy == "chromosome" else settings["group_by"]
    column, keys = strategies.group_key(labels, group_by, settings)
    info = {"strategy": strategy, "group_by": group_by, "group_key": column, "merged_groups": 0}
    if group_by == "locus":  # what rebuilds the same groups from labels.tsv (strategies.group_key)
        info.update(locus_flank=settings["locus_flank"], locus_bin=settings["locus_bin"])
    y = labels["label"].to_numpy(dtype=object)
    if fold and strategy != "kfold":
        raise GenomedlError(f"fold {fold} asked for, but split.strategy is {strategy}; set split.strategy: kfold")
    if strategy == "predefined":
        if "split" not in labels.columns:
            raise GenomedlError(f"{origin}: split.strategy is predefined but the labels have no split column")
        split = strategies.predefined(labels["split"], origin)
        if not (split == "val").any() and (split == "train").any():  # train/test files as published: carve val
            train = np.flatnonzero(split == "train")
            split[train[strategies.hold_out(y[train], keys[train], settings["val"], seed + 1)]] = "val"
            info["val_from_train"] = int((split == "val").sum())
        return split, info
    if strategy == "chromosome":
        return strategies.chromosome_holdout(
            keys, settings["val_chromosomes"], settings["test_chromosomes"], column
        ), info
    groups = keys
    if settings["merge_duplicates"] and canonical is not None:
        groups, info["merged_groups"] = merge_duplicate_groups(keys, canonical)
    if strategy == "kfold":
        info.update(k=settings["k"], fold=fold)
        return strategies.kfold(y, groups, settings["k"], fold, settings["test"], seed), info
    if strategy == "stratified_group":
        return strategies.stratified_group(y, groups, settings["val"], settings["test"], seed), info
    raise GenomedlError(f"unknown split.strategy {strategy!r}; use {in_words(SPLIT_STRATEGIES)}")


def _missing_class(y: np.ndarray, keys: np.ndarray, counts: dict, group_key: str, origin) -> None:
    """Stop when a class got no window in some split: it has too few groups to stratify (``counts``:
    split -> class -> windows)."""
    for name in sorted(set(y)):
        if not all(counts[s][name] for s in SPLITS):
            placed = ", ".join(f"{s} {counts[s][name]}" for s in SPLITS)
            raise GenomedlError(
                f"{origin}: class {name!r} has {int((y == name).sum())} windows in "
                f"{len(set(keys[y == name]))} {group_key} group(s), too few for train, val and test "
                f"({placed}); add examples of {name!r} or remove the class"
            )


def _violations(summary: dict, settings: dict) -> list[str]:
    """Human-readable guard failures that the config does not allow."""
    leak, found = summary["leakage"], []
    names = {
        "group_overlap": f"{leak['n_groups_in_two_splits']} {summary['group_key']} group(s) in two splits "
        f"(e.g. {', '.join(leak['groups_in_two_splits'][:2])})",
        "identical_sequence": f"{leak['identical_windows_in_two_splits']} windows identical to a window of "
        f"another split (e.g. {', '.join(leak['examples']['identical'][:2])})",
        "reverse_complement": f"{leak['reverse_complement_windows_in_two_splits']} windows reverse-complement "
        "identical to a window of another split (e.g. "
        f"{', '.join(leak['examples']['reverse_complement'][:2])})",
    }
    waived = waived_guards(settings["dedupe"], summary["strategy"])
    for guard, key in GUARDS.items():
        if leak[key] and guard not in settings["allow"] and guard not in waived:
            found.append(names[guard])
    limit, deviation = settings["max_class_deviation"], summary["max_class_deviation"]
    if limit is not None and deviation["value"] > limit:
        found.append(
            f"class {deviation['class']} proportions differ by {deviation['value']:.3f} between splits "
            f"(split.max_class_deviation is {limit})"
        )
    return found


def run_split(
    labels: Path, tokens: Path, split: Path, summary: Path, settings: dict, seed: int, fold: int = 0, log=print
) -> dict:
    """Split, check the guards, write ``split`` (TSV: id, split) and ``summary`` (JSON); returns the summary.

    ``settings``: schema section ``split``; ``fold``: the fold of strategy kfold (0-based).
    """
    settings = stage_settings("split", settings, "datasets.<name>.split")
    labels_path, tokens_path, out_split, out_summary = labels, tokens, split, summary
    labels = read_tsv(labels_path, dtype={"id": str})
    tokens = load_tokens(tokens_path)
    if len(tokens) != len(labels):
        raise GenomedlError(f"{tokens_path} has {len(tokens)} rows for {len(labels)} labels; rerun the encode stage")
    forward, canonical = strand_hashes(tokens)
    split, info = assign_splits(labels, settings, seed, canonical, fold, str(labels_path))
    _, keys = strategies.group_key(labels, info["group_by"], settings)
    classes = natural_sorted(labels["label"].unique())
    summary = {
        **info,
        **class_balance(labels["label"].to_numpy(dtype=object), split, classes),
        "seed": seed,
        "fractions": {"val": settings["val"], "test": settings["test"]},
        "groups": {s: int(len(set(keys[split == s]))) for s in SPLITS},
        "windows": len(labels),
    }
    if info["strategy"] == "chromosome":
        summary["chromosomes"] = {"val": settings["val_chromosomes"], "test": settings["test_chromosomes"]}
    summary["leakage"] = leakage(split, keys, forward, canonical, labels["id"].to_numpy(dtype=object))
    empty = [s for s in SPLITS if not sum(summary["class_counts"][s].values())]
    if empty:
        raise GenomedlError(
            f"{labels_path}: split {empty[0]} is empty; add records or change the split settings "
            "(config keys split.val, split.test, split.k, split.*_chromosomes)"
        )
    if info["strategy"] in ("stratified_group", "kfold"):
        _missing_class(
            labels["label"].to_numpy(dtype=object), keys, summary["class_counts"], info["group_key"], labels_path
        )
    problems = _violations(summary, settings)
    if problems:
        raise GenomedlError(
            f"{labels_path}: the split leaks: {'; '.join(problems)}. Group by a coarser key "
            "(split.group_by) or accept it explicitly with split.allow"
        )
    summary["leakage"].update(
        ok=not any(summary["leakage"][k] for k in GUARDS.values()),
        allowed=sorted(set(settings["allow"]) | waived_guards(settings["dedupe"], info["strategy"])),
    )
    write_tsv(pd.DataFrame({"id": labels["id"], "split": split}), out_split)
    write_json(summary, out_summary)
    log(
        f"split: {info['strategy']} by {info['group_by']}: {summary['class_counts']}; "
        f"max class deviation {summary['max_class_deviation']}"
    )
    return summary
