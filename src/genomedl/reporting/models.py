"""The report's per-model sections: the figures each model has, in leaderboard order. A figure a model
cannot have is left out (never drawn as a placeholder) and its leaderboard row says why in a few words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genomedl import plotting
from genomedl.tables import read_json

EVAL_FIGURES = {
    "roc_pr": "ROC and precision-recall curves on the test split",
    "calibration": "calibration on the test split: the probabilities as scored (with the temperature fitted on "
    "the validation split) and as trained",
    "confusion": "confusion matrix on the test split",
}
INTERPRET_FIGURES = {
    "attributions": "attribution logos of the top-scoring test windows of each class (bases scaled by their "
    "contribution to the class logit)",
    "motifs": "motifs from clustered seqlets: information content (left, with the best JASPAR match) and "
    "contribution weights (right)",
    "filters": "first-layer filters turned into PWMs from the windows that activate them most",
    "attention": "attention averaged over heads and windows",
}
TRAINING_CAPTION = "loss per epoch (dashed: the kept checkpoint), accuracy and AUROC, and the gradient norm (log scale)"
WIDE = {"training", "attributions", "motifs", "filters"}  # figures that span the grid's full width


def interpretation_figures(summary: dict) -> list[str]:
    """Keys of :data:`INTERPRET_FIGURES` that the interpret stage drew for a model (its interpretation.json)."""
    kinds = {m["kind"] for m in summary["motifs"]}
    drawn = {
        "attributions": bool(summary["methods"]),
        "motifs": "attribution" in kinds,
        "filters": "filter" in kinds,
        "attention": bool(summary["attention"]),
    }
    return [k for k in INTERPRET_FIGURES if drawn[k]]


def figure(key: str, png: Path, caption: str) -> dict:
    """A grid cell: ``key``, the PNG as a data URI, its caption and whether it spans the grid's width."""
    return {"key": key, "uri": plotting.data_uri(png), "caption": caption, "wide": key in WIDE}


def interpretation(folder: Path, labels: pd.DataFrame) -> dict:
    """interpretation.json of one interpret folder, its drawn figures as data URIs and the interpreted windows
    (id, gene; at most 12)."""
    summary = read_json(folder / "interpretation.json")
    with np.load(folder / "attributions.npz") as saved:
        ids = [str(i) for i in saved["ids"]]
    genes = labels.set_index("id")["gene"].reindex(ids).fillna("").tolist()
    return {
        **summary,
        "figures": [figure(k, folder / f"{k}.png", INTERPRET_FIGURES[k]) for k in interpretation_figures(summary)],
        "windows": list(zip(ids, genes))[:12],
    }


def missing(evaluation: dict, has_training: bool, interpreted: dict | None) -> list[str]:
    """Short reasons for the sections a model cannot have: no curves, no epochs, no attributions or motifs."""
    notes = []
    if not evaluation.get("curves"):
        notes.append("one test class: no ROC")
    if not has_training:
        notes.append("no epochs")
    if interpreted is not None and not interpreted["methods"]:
        notes.append("k-mer input: no attributions")
    elif interpreted is not None and "motifs" not in {f["key"] for f in interpreted["figures"]}:
        notes.append("no motifs found")
    return notes


def model_entries(
    rows: list[dict], evals: dict, runs: dict, eval_dirs: list[Path], model_dirs: list[Path], interpretations: dict
) -> list[dict]:
    """One entry per leaderboard row (same order): evaluation, run, figures (key, data URI, caption, wide),
    interpretation (or None); adds ``note`` to each row."""
    eval_dir = {d.name: Path(d) for d in eval_dirs}
    training = {d.name: Path(d) / "training.png" for d in model_dirs if (Path(d) / "training.png").exists()}
    entries = []
    for row in rows:
        name, evaluation = row["model"], evals[row["model"]]
        pngs = {k: eval_dir[name] / f"{k}.png" for k in EVAL_FIGURES if k != "roc_pr" or evaluation.get("curves")}
        figures = [(k, png, EVAL_FIGURES[k]) for k, png in pngs.items() if png.exists()]
        if name in training:
            figures.append(("training", training[name], TRAINING_CAPTION))
        interpreted = interpretations.get(name)
        restarts = runs.get(name, {}).get("restarts") or []
        collapsed = [f"training collapsed and restarted {len(restarts)}x (run information)"] if restarts else []
        row["note"] = "; ".join([*collapsed, *missing(evaluation, name in training, interpreted)])
        entries.append(
            {
                "name": name,
                "row": row,
                "eval": evaluation,
                "run": runs.get(name, {}),
                "figures": [figure(*f) for f in figures],
                "interpretation": interpreted,
            }
        )
    return entries
