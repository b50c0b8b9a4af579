"""The package's figures, drawn with matplotlib (Agg): saved as PNG files or inlined in reports as data URIs."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from genomedl.atomic import atomic_path  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def save(fig, path: Path) -> None:
    """Write ``fig`` as a PNG (atomically); a ``None`` figure becomes a small 'not available' panel."""
    if fig is None:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.text(0.5, 0.5, "not available for this model or split", ha="center", va="center")
        ax.axis("off")
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(_png(fig))


def data_uri(source) -> str:
    """PNG data URI of a matplotlib figure or of a PNG file."""
    raw = Path(source).read_bytes() if isinstance(source, (str, Path)) else _png(source)
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def roc_pr(evals: dict[str, dict], classes: list[str]):
    """ROC and precision-recall curves of every model for the positive (binary) or each class."""
    shown = classes[1:] if len(classes) == 2 else classes
    if not any(e["curves"] for e in evals.values()):
        return None
    fig, axes = plt.subplots(len(shown), 2, figsize=(10, 4 * len(shown)), squeeze=False)
    for row, name in zip(axes, shown):
        roc, pr = row
        for model, e in sorted(evals.items()):
            curve = e["curves"].get(name)
            if curve:
                auc = e["per_class"][name]["auroc"]
                roc.plot(curve["fpr"], curve["tpr"], label=f"{model} (AUROC {auc:.3f})")
                pr.plot(curve["recall"], curve["precision"], label=f"{model} (AP {e['per_class'][name]['auprc']:.3f})")
        roc.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, class {name}")
        pr.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, class {name}", ylim=(0, 1.02))
        roc.legend(fontsize=8, loc="lower right")
        pr.legend(fontsize=8, loc="lower left")
    return fig


def calibration(evals: dict[str, dict]):
    """Reliability diagram (top-label confidence vs accuracy per bin) and the confidence histogram."""
    fig, (curve, hist) = plt.subplots(1, 2, figsize=(10, 3.6))
    curve.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfectly calibrated")
    for model, e in sorted(evals.items()):
        cal = e["calibration"]
        keep = [i for i, c in enumerate(cal["count"]) if c]
        ece = "–" if e.get("ece") is None else f"{e['ece']:.3f}"
        curve.plot(
            [cal["confidence"][i] for i in keep],
            [cal["accuracy"][i] for i in keep],
            "-o",
            markersize=3,
            label=f"{model} (ECE {ece})",
        )
        centres = np.diff(cal["edges"]) / 2 + cal["edges"][:-1]
        hist.bar(centres, cal["count"], width=np.diff(cal["edges"]), alpha=0.5, label=model)
    curve.set(
        xlabel="confidence (top class probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02), title="Calibration"
    )
    hist.set(xlabel="confidence", ylabel="test windows", title="Confidence histogram", xlim=(0, 1))
    curve.legend(fontsize=8, loc="upper left")
    hist.legend(fontsize=8)
    return fig


def training_curves(model: str, history: pd.DataFrame, run: dict):
    """Loss (train, val) with the best epoch marked, validation scores, and the gradient norm per epoch."""
    fig, (loss, score, grad) = plt.subplots(1, 3, figsize=(13, 3.4))
    for column, style in (("train_loss", "-o"), ("val_loss", "-s")):
        if column in history:
            loss.plot(history["epoch"], history[column], style, label=column.replace("_", " "), markersize=3)
    if run.get("best_epoch"):
        loss.axvline(run["best_epoch"], color="grey", linestyle="--", linewidth=1, label="kept checkpoint")
    verdict = (run.get("fit_verdict") or {}).get("verdict", "")
    loss.set(xlabel="epoch", ylabel="cross-entropy", title=f"{model}: loss" + (f" ({verdict})" if verdict else ""))
    loss.legend(fontsize=8)
    for column in ("train_acc", "val_acc", "val_auroc"):
        if column in history:
            score.plot(history["epoch"], history[column], "-o", label=column.replace("_", " "), markersize=3)
    score.set(xlabel="epoch", ylim=(0, 1.02), title=f"{model}: accuracy and AUROC")
    score.legend(fontsize=8)
    for column in ("grad_norm", "grad_norm_max"):
        if column in history:
            grad.plot(history["epoch"], history[column], "-o", label=column.replace("_", " "), markersize=3)
    grad.set(xlabel="epoch", ylabel="L2 norm", title=f"{model}: gradient norm")
    if grad.lines:
        grad.set_yscale("log")
        grad.legend(fontsize=8)
    return fig


def confusion(model: str, evaluation: dict):
    """Confusion matrix heat map with counts (rows: true class, columns: predicted)."""
    matrix, classes = evaluation["confusion_matrix"], evaluation["classes"]
    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * len(classes), 1.2 + 0.8 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=model)
    peak = max(max(r) for r in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    return fig


def composition(stats: pd.DataFrame, classes: list[str]):
    """Histograms per class of called bases (non-N) per window and of GC fraction (``stats``: label, length, gc)."""
    fig, (length, gc) = plt.subplots(1, 2, figsize=(10, 3.4))
    for name in classes:
        part = stats[stats["label"] == name]
        length.hist(part["length"], bins=30, alpha=0.5, label=f"{name} (n={len(part)})")
        gc.hist(part["gc"].dropna(), bins=np.linspace(0, 1, 41), alpha=0.5, density=True, label=name)
    length.set(xlabel="called bases (A/C/G/T) per window", ylabel="windows", title="Length per class")
    gc.set(xlabel="GC fraction", ylabel="density", title="GC content per class")
    length.legend(fontsize=8)
    gc.legend(fontsize=8)
    return fig
