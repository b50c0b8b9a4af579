"""Unsupervised view: encoder embeddings of the test windows, k-means clusters, a 2-D projection and
cluster purity against the labels, beside the same analysis on k-mer spectra (no learning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.encoding.tokenizer import FIRST_KMER, kmer_ids, load_settings
from genomedl.models.layers import kmer_frequencies
from genomedl.tables import write_json


@torch.no_grad()
def encoder_embeddings(encoder: str | Path, tokens: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Mean of the last hidden states over the k-mer tokens (specials left out): ``[N, hidden]`` float32."""
    from transformers import BertModel

    settings = load_settings(encoder)
    model = BertModel.from_pretrained(str(encoder), add_pooling_layer=False).eval()
    out = []
    for start in range(0, len(tokens), batch_size):
        ids = kmer_ids(
            torch.from_numpy(np.ascontiguousarray(tokens[start : start + batch_size])),
            settings["k"],
            settings["overlapping"],
        )
        hidden = model(input_ids=ids).last_hidden_state
        keep = (ids >= FIRST_KMER).unsqueeze(-1).float()
        out.append((hidden * keep).sum(1) / keep.sum(1).clamp(min=1))
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.hidden_size), np.float32)


def purity(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Fraction of windows whose cluster's most frequent label is their own label."""
    table = np.zeros((clusters.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(table, (clusters, labels), 1)
    return float(table.max(1).sum() / len(labels))


def cluster_view(features: np.ndarray, labels: np.ndarray, n_clusters: int, seed: int, max_points: int = 2000) -> dict:
    """k-means on standardised ``features [N, D]``; purity, ARI, NMI and PCA 2-D points (at most ``max_points``)."""
    scaled = (features - features.mean(0)) / (features.std(0) + 1e-8)
    clusters = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(scaled)
    xy = PCA(2, random_state=seed).fit_transform(scaled)
    shown = np.sort(np.random.default_rng(seed).permutation(len(labels))[:max_points])
    return {
        "purity": purity(labels, clusters),
        "adjusted_rand": float(adjusted_rand_score(labels, clusters)),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "points": {
            "x": xy[shown, 0].round(4).tolist(),
            "y": xy[shown, 1].round(4).tolist(),
            "label": labels[shown].tolist(),
            "cluster": clusters[shown].tolist(),
        },
    }


def run_embed(encoder: Path, dataset: DatasetFiles, out: Path, seed: int, kmer_k: int = 4, log=print) -> dict:
    """Cluster the test split's encoder embeddings and k-mer spectra; write ``out`` (clusters.json)."""
    out_json = out
    data = load_dataset(dataset)
    test = data.parts["test"]
    n_clusters = len(data.classes)
    views = {
        "bert_encoder": encoder_embeddings(encoder, test.tokens),
        f"kmer{kmer_k}_spectrum": kmer_frequencies(torch.from_numpy(np.asarray(test.tokens)), kmer_k).numpy(),
    }
    counts = np.bincount(test.labels, minlength=n_clusters)
    result = {
        "split": "test",
        "n": int(len(test.labels)),
        "classes": data.classes,
        "n_clusters": n_clusters,
        "majority_fraction": float(counts.max() / max(counts.sum(), 1)),
        "views": {name: cluster_view(x, test.labels, n_clusters, seed) for name, x in views.items()},
    }
    write_json(result, out_json)
    for name, view in result["views"].items():
        log(
            f"embed: {name} purity {view['purity']:.3f} ARI {view['adjusted_rand']:.3f} "
            f"(majority class {result['majority_fraction']:.3f})"
        )
    return result
