"""Evaluate stage: test-split predictions and metrics for a trained model or a baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .baseline import baseline_proba
from .data import load_dataset
from .engine import predict_proba
from .tables import read_json, write_json, write_tsv
from .train import load_model


def model_proba(model_dir: Path, tokens: np.ndarray) -> np.ndarray:
    """Probabilities ``[N, C]`` from whatever kind of model ``model_dir`` holds."""
    if (model_dir / "model.npz").exists() and not (model_dir / "model.ckpt").exists():
        with np.load(model_dir / "model.npz") as saved:
            return baseline_proba({k: saved[k] for k in saved.files}, tokens)
    model, _ = load_model(model_dir / "model.ckpt")
    return predict_proba(model, tokens)


def curve_points(y: np.ndarray, scores: np.ndarray) -> dict:
    """ROC and precision-recall curves of one class (for the report), thinned to ≤ 200 points."""
    fpr, tpr, _ = skm.roc_curve(y, scores)
    precision, recall, _ = skm.precision_recall_curve(y, scores)
    thin = lambda a: a[np.unique(np.linspace(0, len(a) - 1, min(len(a), 200)).astype(int))].round(5).tolist()
    return {"fpr": thin(fpr), "tpr": thin(tpr), "precision": thin(precision), "recall": thin(recall)}


def compute_metrics(y: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict:
    """Threshold-free and thresholded metrics of probabilities ``[N, C]`` against labels ``[N]``."""
    pred = probs.argmax(axis=1)
    present = np.unique(y)
    binary = len(classes) == 2
    out = {
        "n": int(len(y)), "class_counts": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
        "f1": float(skm.f1_score(y, pred, average="binary" if binary else "macro", zero_division=0)),
        "mcc": float(skm.matthews_corrcoef(y, pred)),
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=list(range(len(classes)))).tolist(),
        "auroc": None, "auprc": None, "curves": {},
    }
    if len(present) == len(classes):
        if binary:
            out["auroc"] = float(skm.roc_auc_score(y, probs[:, 1]))
            out["auprc"] = float(skm.average_precision_score(y, probs[:, 1]))
        else:
            onehot = np.eye(len(classes))[y]
            out["auroc"] = float(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
            out["auprc"] = float(skm.average_precision_score(onehot, probs, average="macro"))
        for i, name in enumerate(classes):
            out["curves"][name] = curve_points(y == i, probs[:, i])
    return out


def run_evaluate(model_dir: Path, tokens: Path, meta: Path, labels: Path, split: Path, out_dir: Path,
                 log=print) -> dict:
    data = load_dataset(tokens, meta, labels, split)
    test = data.parts["test"]
    probs = model_proba(model_dir, test.tokens)
    run = read_json(model_dir / "run.json")
    predictions = pd.DataFrame({"id": test.ids, "label": [data.classes[i] for i in test.labels]})
    for i, name in enumerate(data.classes):
        predictions[f"p_{name}"] = probs[:, i].round(6)
    predictions["predicted"] = [data.classes[i] for i in probs.argmax(axis=1)]
    write_tsv(predictions, out_dir / "predictions.tsv")
    result = {"model": run["model"], "arch": run["arch"], "classes": data.classes, "split": "test",
              **compute_metrics(test.labels, probs, data.classes)}
    write_json(result, out_dir / "metrics.json")
    log(f"evaluate: {run['model']} AUROC {result['auroc']} MCC {result['mcc']:.3f} on {result['n']} test windows")
    return result
