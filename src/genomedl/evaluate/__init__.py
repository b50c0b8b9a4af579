"""Evaluate stage: test-split predictions, metrics with bootstrap confidence intervals, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .. import plotting
from ..config import stage_settings
from ..data import load_dataset
from ..tables import read_json, write_json, write_tsv
from .bootstrap import bootstrap_distribution, interval
from .metrics import SCALARS, calibration_bins, weighted_metrics

__all__ = ["compute_metrics", "model_proba", "prediction_table", "run_evaluate", "metrics_table"]


def model_proba(model_dir: Path, tokens: np.ndarray) -> np.ndarray:
    """Probabilities ``[N, C]`` from whatever kind of model ``model_dir`` holds (neural: on the CPU, both
    strands averaged when it was trained on both (rc_augment), else the forward strand as trained)."""
    from ..scoring import load_scorer

    return load_scorer(model_dir, device="cpu").proba(tokens, batch_size=512)


def curve_points(y: np.ndarray, scores: np.ndarray) -> dict:
    """ROC and precision-recall curves of one class (for the report), thinned to ≤ 200 points."""
    fpr, tpr, _ = skm.roc_curve(y, scores)
    precision, recall, _ = skm.precision_recall_curve(y, scores)
    thin = lambda a: a[np.unique(np.linspace(0, len(a) - 1, min(len(a), 200)).astype(int))].round(5).tolist()
    return {"fpr": thin(fpr), "tpr": thin(tpr), "precision": thin(precision), "recall": thin(recall)}


def reliability(y: np.ndarray, probs: np.ndarray, n_bins: int) -> dict:
    """Top-label reliability diagram: per equal-width confidence bin its count, mean confidence, accuracy."""
    bins = calibration_bins(probs, n_bins)
    count = np.bincount(bins, minlength=n_bins)
    conf = np.bincount(bins, probs.max(1), minlength=n_bins)
    correct = np.bincount(bins, (probs.argmax(1) == y).astype(float), minlength=n_bins)
    mean = lambda s: [round(float(v), 5) if c else None for v, c in zip(s / np.maximum(count, 1), count)]
    return {
        "edges": np.linspace(0, 1, n_bins + 1).round(5).tolist(),
        "count": count.tolist(),
        "confidence": mean(conf),
        "accuracy": mean(correct),
    }


def _num(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def compute_metrics(y: np.ndarray, probs: np.ndarray, classes: list[str], n_bins: int = 15) -> dict:
    """Point metrics of probabilities ``[N, C]`` against labels ``[N]`` (None where undefined), per-class
    metrics, confusion matrix, ROC/PR curve points and the reliability diagram."""
    point = weighted_metrics(y, probs, np.ones((1, len(y))), n_bins)
    pred = probs.argmax(axis=1)
    out = {
        "n": int(len(y)),
        "class_counts": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        **{k: _num(point[k][0]) for k in SCALARS},
        "per_class": {
            c: {"support": int((y == i).sum()), **{k: _num(v[0, i]) for k, v in point["per_class"].items()}}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=list(range(len(classes)))).tolist(),
        "calibration": reliability(y, probs, n_bins),
        "curves": {},
    }
    if len(np.unique(y)) == len(classes):
        out["curves"] = {name: curve_points(y == i, probs[:, i]) for i, name in enumerate(classes)}
    return out


def metrics_table(result: dict) -> pd.DataFrame:
    """One row per metric (overall, then per class): value and confidence interval."""
    ci = result.get("ci", {})
    rows = [
        {
            "metric": k,
            "class": "all",
            "value": result[k],
            "ci_low": (ci.get(k) or [None, None])[0],
            "ci_high": (ci.get(k) or [None, None])[1],
        }
        for k in SCALARS
    ]
    rows += [
        {"metric": k, "class": c, "value": v, "ci_low": None, "ci_high": None}
        for c, m in result["per_class"].items()
        for k, v in m.items()
        if k != "support"
    ]
    return pd.DataFrame(rows)


def prediction_table(ids, y: np.ndarray, probs: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """predictions.tsv: id, label, p_<class> per class (6 decimals), predicted; ``y [N]``, ``probs [N, C]``."""
    table = pd.DataFrame({"id": ids, "label": [classes[i] for i in y]})
    for i, name in enumerate(classes):
        table[f"p_{name}"] = probs[:, i].round(6)
    table["predicted"] = [classes[i] for i in probs.argmax(axis=1)]
    return table


def run_evaluate(
    model_dir: Path,
    tokens: Path,
    meta: Path,
    labels: Path,
    split: Path,
    out_dir: Path,
    settings: dict,
    seed: int,
    log=print,
) -> dict:
    """Score the test split; write predictions.tsv, metrics.json, metrics.tsv and the model's figures in
    ``out_dir``. ``settings``: schema section ``evaluate`` (bootstrap resamples); ``seed``: the bootstrap's."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    data = load_dataset(tokens, meta, labels, split)
    test = data.parts["test"]
    probs = model_proba(model_dir, test.tokens)
    run = read_json(model_dir / "run.json")
    write_tsv(prediction_table(test.ids, test.labels, probs, data.classes), out_dir / "predictions.tsv")
    result = {
        "model": run["model"],
        "arch": run["arch"],
        "classes": data.classes,
        "split": "test",
        **compute_metrics(test.labels, probs, data.classes),
    }
    if n_boot and len(test.labels):
        dist = bootstrap_distribution(test.labels, probs, n_boot, seed)
        result["ci"] = {k: interval(v) for k, v in dist.items()}
        result["bootstrap"] = {"resamples": n_boot, "seed": seed, "level": 0.95}
    write_tsv(metrics_table(result), out_dir / "metrics.tsv")
    plotting.save(plotting.roc_pr({run["model"]: result}, data.classes), out_dir / "roc_pr.png")
    plotting.save(plotting.calibration({run["model"]: result}), out_dir / "calibration.png")
    plotting.save(plotting.confusion(run["model"], result), out_dir / "confusion.png")
    write_json(result, out_dir / "metrics.json")
    log(f"evaluate: {run['model']} AUROC {result['auroc']} MCC {result['mcc']} on {result['n']} test windows")
    return result
