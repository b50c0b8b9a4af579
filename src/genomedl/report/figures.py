"""Figures for the report, rendered by matplotlib to inline PNG data URIs."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def roc_pr(evals: dict[str, dict], classes: list[str]) -> str | None:
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
                roc.plot(curve["fpr"], curve["tpr"], label=f"{model} (AUROC {e['auroc']:.3f})")
                pr.plot(curve["recall"], curve["precision"], label=model)
        roc.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, class {name}")
        pr.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, class {name}", ylim=(0, 1.02))
        roc.legend(fontsize=8, loc="lower right")
        pr.legend(fontsize=8, loc="lower left")
    return _data_uri(fig)


def training_curves(model: str, history: pd.DataFrame) -> str:
    """Loss (train, val) and validation AUROC per epoch."""
    fig, (loss, score) = plt.subplots(1, 2, figsize=(10, 3.4))
    for column, style in (("train_loss", "-o"), ("val_loss", "-s")):
        if column in history:
            loss.plot(history["epoch"], history[column], style, label=column.replace("_", " "), markersize=3)
    loss.set(xlabel="epoch", ylabel="cross-entropy", title=f"{model}: loss")
    loss.legend(fontsize=8)
    for column in ("val_auroc", "val_acc"):
        if column in history:
            score.plot(history["epoch"], history[column], "-o", label=column.replace("_", " "), markersize=3)
    score.set(xlabel="epoch", ylim=(0, 1.02), title=f"{model}: validation")
    score.legend(fontsize=8)
    return _data_uri(fig)


def confusion(model: str, evaluation: dict) -> str:
    """Confusion matrix heat map with counts (rows: true class, columns: predicted)."""
    matrix, classes = evaluation["confusion_matrix"], evaluation["classes"]
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(classes), 1.0 + 0.8 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=model)
    peak = max(max(r) for r in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    return _data_uri(fig)
