"""Quality of generated DNA against held-out real sequences of the same class.

k-mer spectrum distance (Jensen-Shannon divergence, base 2, between the pooled k-mer frequencies of
two sets; 0 = identical, 1 = disjoint) for k = 1...6; per-sequence GC content (Wasserstein-1
distance between the two GC distributions); the probability a trained classifier gives the class.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from genomedl.models.layers import kmer_frequencies

K_RANGE = range(1, 7)


def spectrum(tokens: np.ndarray, k: int) -> np.ndarray:
    """Pooled overlapping k-mer frequencies ``[4**k]`` of windows ``[N, L]`` (k-mers with N skipped)."""
    counts = kmer_frequencies(torch.from_numpy(np.ascontiguousarray(tokens)), k).sum(0).double().numpy()
    return counts / max(counts.sum(), 1e-12)


def kmer_distances(tokens: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """``{"k1": JSD, ..., "k6": JSD}`` between the pooled k-mer spectra of ``tokens`` and ``reference``."""
    return {f"k{k}": float(jensenshannon(spectrum(tokens, k), spectrum(reference, k), base=2) ** 2) for k in K_RANGE}


def gc_content(tokens: np.ndarray) -> np.ndarray:
    """Per-window GC fraction ``[N]`` among A/C/G/T (N bases left out)."""
    acgt = (tokens < 4).sum(1)
    return ((tokens == 1) | (tokens == 2)).sum(1) / np.maximum(acgt, 1)


def shuffled(tokens: np.ndarray, seed: int) -> np.ndarray:
    """Each window's bases randomly permuted (one argsort for all): composition kept, order destroyed."""
    order = np.random.default_rng(seed).random(tokens.shape).argsort(1)
    return np.take_along_axis(tokens, order, axis=1)


def quality(sets: dict[str, np.ndarray], reference: np.ndarray, class_probability=None) -> dict:
    """Per set: k-mer distances, GC mean/sd and GC Wasserstein distance to ``reference``, classifier score.

    ``class_probability``: optional callable tokens ``[N, L]`` -> probability of the class ``[N]``.
    """
    gc_ref = gc_content(reference)
    out = {}
    for name, tokens in {**sets, "heldout_real": reference}.items():
        gc = gc_content(tokens)
        entry = {
            "n": int(len(tokens)),
            "kmer_jsd": kmer_distances(tokens, reference),
            "gc_mean": float(gc.mean()),
            "gc_sd": float(gc.std()),
            "gc_wasserstein": float(wasserstein_distance(gc, gc_ref)),
            "gc_histogram": np.histogram(gc, bins=20, range=(0, 1))[0].tolist(),
        }
        if class_probability is not None:
            entry["classifier_score"] = float(np.mean(class_probability(tokens)))
        out[name] = entry
    return out
