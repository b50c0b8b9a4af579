"""The report's sections on models beyond one train/test split: transfer across datasets (transfer.json),
k-fold ensembles (ensemble.json) and hyperparameter searches (search/{model}/trials.tsv and best.json).
Metric values in these files are ``[value, low, high]`` (95% bootstrap interval)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.tables import read_json, read_tsv


def transfer_table(path: Path) -> dict:
    """transfer.json as one row per model: its in-dataset value beside its value on each other dataset.

    Returns ``metric``, ``trained_on``, ``home`` (split, n of the in-dataset evaluation), ``targets`` (dataset,
    split, n per other dataset, in file order) and ``rows`` (model, ``home`` and ``cross`` {dataset: triple})."""
    data = read_json(path)
    metric, rows, targets, home = data["metric"], {}, {}, None
    for r in data["rows"]:
        row = rows.setdefault(r["model"], {"model": r["model"], "home": None, "cross": {}})
        if r["in_dataset"]:
            row["home"], home = r[metric], {"dataset": r["evaluated_on"], "split": r["split"], "n": r["n"]}
        else:
            row["cross"][r["evaluated_on"]] = r[metric]
            targets.setdefault(r["evaluated_on"], {"dataset": r["evaluated_on"], "split": r["split"], "n": r["n"]})
    trained_on = data["rows"][0]["trained_on"] if data["rows"] else ""
    return {
        "metric": metric,
        "trained_on": trained_on,
        "home": home,
        "targets": list(targets.values()),
        "rows": list(rows.values()),
    }


def ensemble_table(path: Path) -> dict:
    """ensemble.json as one row per model: the fold models' spread (min, mean, max of the point values),
    the ensemble's value and its gain over the mean fold model (triples)."""
    data = read_json(path)
    metric, rows = data["metric"], []
    for m in data["models"]:
        folds = np.array([f[metric][0] for f in m["folds"]], dtype=float)
        rows.append(
            {
                "model": m["model"],
                "folds": len(folds),
                "min": float(folds.min()),
                "mean": float(folds.mean()),
                "max": float(folds.max()),
                "ensemble": m["ensemble"][metric],
                "gain": m["gain"][metric],
            }
        )
    return {"metric": metric, "k": data["k"], "rows": rows}


def search_entries(folders: list[Path]) -> list[dict]:
    """Per searched model folder: best.json, its ``chosen`` settings as (name, value) pairs, and every trial of
    trials.tsv (trial, state, value, params; ``chosen`` marks the best trial), sorted by trial number."""
    entries = []
    for folder in map(Path, folders):
        best = read_json(folder / "best.json")
        trials = read_tsv(folder / "trials.tsv").sort_values("trial")
        trials["value"] = pd.to_numeric(trials["value"], errors="coerce")  # empty for failed or pruned trials
        params = [c for c in trials.columns if c not in ("trial", "state", "value")]
        rows = [
            {
                "trial": int(t["trial"]),
                "state": t["state"],
                "value": None if pd.isna(t["value"]) else float(t["value"]),
                "params": [t[p] for p in params],
                "chosen": int(t["trial"]) == best["best_trial"],
            }
            for t in trials.to_dict("records")
        ]
        order = {c: i for i, c in enumerate(params)}  # the chosen settings in the table's column order
        chosen = sorted(best["params"].items(), key=lambda kv: order.get(kv[0], len(order)))
        entries.append({**best, "chosen": chosen, "columns": params, "trials": rows})
    return entries
