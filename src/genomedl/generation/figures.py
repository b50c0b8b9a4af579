"""Figures of the GAN stage for the report: training curves, k-mer distances, GC distributions, as PNG data URIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genomedl.plotting import data_uri, plt

SET_LABELS = {
    "generated": "generated",
    "shuffled_real": "shuffled real (floor)",
    "train_real": "train real",
    "heldout_real": "held-out real",
}


def training(label: str, history: pd.DataFrame) -> str:
    """Critic loss, Wasserstein estimate and generator loss per epoch."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    for column in ("critic_loss", "generator_loss"):
        if column in history:
            left.plot(history["epoch"], history[column], label=column.replace("_", " "))
    left.set(xlabel="epoch", title=f"GAN {label}: losses")
    left.legend(fontsize=8)
    right.plot(history["epoch"], history["wasserstein"], color="tab:green")
    right.set(xlabel="epoch", ylabel="critic(real) - critic(generated)", title="Wasserstein estimate")
    return data_uri(fig)


def quality(quality: dict) -> str:
    """k-mer spectrum JSD (k = 1...6) per set, and GC-content histograms beside the held-out real windows."""
    sets = quality["sets"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for name, entry in sets.items():
        if name == "heldout_real":
            continue
        ks = sorted(entry["kmer_jsd"], key=lambda k: int(k[1:]))
        left.plot(
            [int(k[1:]) for k in ks],
            [entry["kmer_jsd"][k] for k in ks],
            "-o",
            markersize=3,
            label=SET_LABELS.get(name, name),
        )
    left.set(xlabel="k", ylabel="JSD to held-out real", title=f"{quality['class']}: k-mer spectrum distance")
    left.legend(fontsize=8)
    centres = np.linspace(0.025, 0.975, 20)
    for name, entry in sets.items():
        hist = np.asarray(entry["gc_histogram"], dtype=float)
        right.plot(centres, hist / max(hist.sum(), 1), label=SET_LABELS.get(name, name))
    right.set(xlabel="GC fraction", ylabel="fraction of windows", title="GC content")
    right.legend(fontsize=8)
    return data_uri(fig)
