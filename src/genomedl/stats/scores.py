"""A model's test predictions scored: metrics per class and overall, ROC / PR curves, the reliability diagram, as
the evaluate stage writes them (metrics.json, predictions.tsv) and the stages that score models again read them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from genomedl.stats.metrics import SCALARS, calibration_bins, weighted_metrics


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
