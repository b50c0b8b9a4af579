"""Interpretation figures: attribution logos, motif logos with their JASPAR matches, attention maps."""

from __future__ import annotations

import logomaker
import numpy as np
import pandas as pd

from genomedl.plotting import plt


def _frame(matrix: np.ndarray) -> pd.DataFrame:
    """``[4, W]`` -> logomaker's ``[W, 4]`` frame with columns A, C, G, T."""
    return pd.DataFrame(np.asarray(matrix, dtype=float).T, columns=list("ACGT"))


def _logo(ax, matrix: np.ndarray, title: str, ylabel: str, start: int = 0) -> None:
    frame = _frame(matrix)
    frame.index = frame.index + start
    logomaker.Logo(frame, ax=ax, color_scheme="classic", show_spines=False)
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def attribution_logos(examples: list[dict], width: int = 60):
    """One logo row per example (``title``, ``contrib [4, L]``), cropped to ``width`` bp around the peak."""
    if not examples:
        return None
    fig, axes = plt.subplots(len(examples), 1, figsize=(11, 1.5 * len(examples)), squeeze=False)
    for ax, ex in zip(axes[:, 0], examples):
        contrib = ex["contrib"]
        peak = int(np.abs(contrib).sum(0).argmax())
        lo = int(np.clip(peak - width // 2, 0, max(contrib.shape[1] - width, 0)))
        _logo(ax, contrib[:, lo : lo + width], ex["title"], "attribution", start=lo)
    axes[-1, 0].set_xlabel("position in window (bp)")
    fig.tight_layout()
    return fig


def motif_logos(motifs: list[dict]):
    """Per motif: information-content logo of the PPM (title: best JASPAR match) and the CWM logo."""
    if not motifs:
        return None
    fig, axes = plt.subplots(len(motifs), 2, figsize=(11, 1.7 * len(motifs)), squeeze=False)
    for (left, right), m in zip(axes, motifs):
        ic = logomaker.transform_matrix(_frame(m["ppm"]), from_type="probability", to_type="information")
        logomaker.Logo(ic, ax=left, color_scheme="classic", show_spines=False)
        best = m["matches"][0] if m.get("matches") else None
        label = f"{best['name']} ({best['id']}, q={best['q']:.1e})" if best else "no JASPAR match"
        left.set_title(f"{m['name']}: {label}", fontsize=9, loc="left")
        left.set_ylabel("bits", fontsize=8)
        left.set_ylim(0, 2)
        left.tick_params(labelsize=7)
        if m.get("cwm") is not None:
            _logo(right, m["cwm"], f"{m['name']}: contribution weights ({m.get('support', 0)} seqlets)", "attribution")
        else:
            right.axis("off")
    fig.tight_layout()
    return fig


def attention_map(weights: np.ndarray, title: str):
    """Mean attention ``[T, T]`` (query rows, key columns) as a heat map."""
    fig, ax = plt.subplots(figsize=(5, 4.2))
    image = ax.imshow(weights, cmap="viridis", aspect="auto")
    ax.set(xlabel="key position", ylabel="query position", title=title)
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    return fig
