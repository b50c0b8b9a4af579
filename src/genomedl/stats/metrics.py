"""Classification metrics under sample weights, vectorised over bootstrap resamples.

Every function takes labels ``y [N]`` (int class index), probabilities ``probs [N, C]`` and weights
``w [B, N]`` (how often each sample is drawn in each of ``B`` resamples; a row of ones is the plain
estimate) and returns one value per resample, ``[B]``. Definitions follow scikit-learn (the tests
check equality at unit weights): binary precision/recall/F1/AUROC/AUPRC are those of class 1,
multi-class ones are unweighted means over classes (one-vs-rest for AUROC and AUPRC).
"""

from __future__ import annotations

import numpy as np

SCALARS = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "auroc", "auprc", "brier", "ece"]


def _ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, empty, dtype=float), where=den > 0)


def confusion(y: np.ndarray, pred: np.ndarray, w: np.ndarray, n_classes: int) -> np.ndarray:
    """Weighted confusion matrices ``[B, C, C]`` (rows: true class, columns: predicted)."""
    cell = np.eye(n_classes * n_classes)[y * n_classes + pred]  # [N, C*C]
    return (w @ cell).reshape(-1, n_classes, n_classes)


def from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """accuracy, balanced accuracy, MCC and per-class precision/recall/F1 ``[B, C]`` of matrices ``[B, C, C]``."""
    diag = np.diagonal(cm, axis1=1, axis2=2)
    true, predicted, total = cm.sum(2), cm.sum(1), cm.sum((1, 2))
    recall = _ratio(diag, true)
    precision = _ratio(diag, predicted)
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = true > 0
    balanced = _ratio((recall * present).sum(1), present.sum(1), np.nan)
    correct = diag.sum(1)
    cov = correct * total - (predicted * true).sum(1)
    den = np.sqrt((total**2 - (predicted**2).sum(1)) * (total**2 - (true**2).sum(1)))
    return {
        "accuracy": _ratio(correct, total, np.nan),
        "balanced_accuracy": balanced,
        "mcc": _ratio(cov, den),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _tie_groups(sorted_scores: np.ndarray) -> np.ndarray:
    """Index of the last sample of each run of equal scores in a sorted score vector."""
    return np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])


def auroc(positive: np.ndarray, scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Mann-Whitney AUROC ``[B]`` of a binary problem (ties count one half); NaN without both classes."""
    order = np.argsort(scores, kind="stable")
    ends = _tie_groups(scores[order])
    wp = (w * positive)[:, order].cumsum(1)[:, ends]
    wn = (w * ~positive)[:, order].cumsum(1)[:, ends]
    pos_in = np.diff(wp, prepend=0, axis=1)
    neg_below = np.concatenate([np.zeros((len(w), 1)), wn[:, :-1]], axis=1)
    neg_in = np.diff(wn, prepend=0, axis=1)
    pairs = (pos_in * (neg_below + 0.5 * neg_in)).sum(1)
    return _ratio(pairs, wp[:, -1] * wn[:, -1], np.nan)


def average_precision(positive: np.ndarray, scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted average precision ``[B]`` (area under the step precision-recall curve); NaN without positives."""
    order = np.argsort(-scores, kind="stable")
    ends = _tie_groups(-scores[order])
    tp = (w * positive)[:, order].cumsum(1)[:, ends]
    fp = (w * ~positive)[:, order].cumsum(1)[:, ends]
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp[:, -1:], np.nan)
    return (np.diff(recall, prepend=0, axis=1) * precision).sum(1)


def brier(y: np.ndarray, probs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean squared error of the class-1 probability (binary) or summed over classes (multi-class)."""
    onehot = np.eye(probs.shape[1])[y]
    per_sample = ((probs - onehot) ** 2).sum(1)
    if probs.shape[1] == 2:
        per_sample = per_sample / 2  # (p1 - y)^2 == half the two-class sum
    return _ratio(w @ per_sample, w.sum(1), np.nan)


def calibration_bins(probs: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin ``[N]`` of each sample's top-label confidence, equal-width bins over [0, 1]."""
    return np.minimum((probs.max(1) * n_bins).astype(int), n_bins - 1)


def ece(y: np.ndarray, probs: np.ndarray, w: np.ndarray, n_bins: int = 15) -> np.ndarray:
    """Expected calibration error of the top label: sum over bins of weight x |accuracy - confidence|."""
    cell = np.eye(n_bins)[calibration_bins(probs, n_bins)]
    correct = (probs.argmax(1) == y).astype(float)
    gap = np.abs(w @ (cell * correct[:, None]) - w @ (cell * probs.max(1)[:, None])).sum(1)
    return _ratio(gap, w.sum(1), np.nan)


def weighted_metrics(y: np.ndarray, probs: np.ndarray, w: np.ndarray, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Every scalar of :data:`SCALARS` ``[B]`` plus per-class ``precision/recall/f1/auroc/auprc`` ``[B, C]``."""
    n_classes = probs.shape[1]
    cm = from_confusion(confusion(y, probs.argmax(1), w, n_classes))
    per_class = {k: cm[k] for k in ("precision", "recall", "f1")}
    per_class["auroc"] = np.stack([auroc(y == c, probs[:, c], w) for c in range(n_classes)], 1)
    per_class["auprc"] = np.stack([average_precision(y == c, probs[:, c], w) for c in range(n_classes)], 1)
    pick = (lambda a: a[:, 1]) if n_classes == 2 else (lambda a: a.mean(1))
    out = {k: pick(v) for k, v in per_class.items()}
    out.update(
        accuracy=cm["accuracy"],
        balanced_accuracy=cm["balanced_accuracy"],
        mcc=cm["mcc"],
        brier=brier(y, probs, w),
        ece=ece(y, probs, w, n_bins),
    )
    return {**out, "per_class": per_class}
