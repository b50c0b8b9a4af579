"""Figures of the language-model stages for the report (PNG data URIs): MLM curves and cluster maps."""

from __future__ import annotations

import pandas as pd

from genomedl.plotting import data_uri, plt


def mlm_curves(history: pd.DataFrame, majority: float | None = None) -> str:
    """Masked-LM loss and accuracy per epoch (train and held-out), with the majority-token accuracy floor."""
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(10, 3.2))
    for stage in ("train", "val"):
        name = "held-out" if stage == "val" else stage
        loss.plot(history["epoch"], history[f"{stage}_mlm_loss"], "-o", markersize=3, label=name)
        acc.plot(history["epoch"], history[f"{stage}_mlm_acc"], "-o", markersize=3, label=name)
    if majority is not None:
        acc.axhline(majority, color="grey", linestyle=":", label="most frequent token")
    loss.set(xlabel="epoch", ylabel="cross-entropy", title="Pretraining: MLM loss")
    acc.set(xlabel="epoch", ylabel="accuracy on masked tokens", title="Pretraining: MLM accuracy")
    loss.legend(fontsize=8)
    acc.legend(fontsize=8)
    return data_uri(fig)


def clusters(result: dict) -> str:
    """PCA maps of each embedding, coloured by label, with k-means purity in the title."""
    views = result["views"]
    fig, axes = plt.subplots(1, len(views), figsize=(5 * len(views), 4), squeeze=False)
    for ax, (name, view) in zip(axes[0], views.items()):
        points = pd.DataFrame(view["points"])
        for index, label in enumerate(result["classes"]):
            part = points[points["label"] == index]
            ax.scatter(part["x"], part["y"], s=6, alpha=0.6, label=label)
        ax.set(
            xlabel="PC 1", ylabel="PC 2", title=f"{name}: purity {view['purity']:.3f}, ARI {view['adjusted_rand']:.2f}"
        )
        ax.legend(fontsize=8, markerscale=2)
    return data_uri(fig)
