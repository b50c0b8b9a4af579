"""De novo motifs from attributions, TF-MoDISco-lite style, and first-layer CNN filters as PWMs.

Seqlets (spans of high positive contribution) are called with tangermeme's recursive seqlet caller,
compared with each other by TOMTOM (memelite) on their contribution-weight matrices, grouped by
average-linkage clustering of the ``-log10 p`` similarities, aligned to each group's medoid with the
TOMTOM offset and strand, and summed into a position probability matrix (PPM ``[4, W]``, from the
aligned bases) and a contribution-weight matrix (CWM ``[4, W]``), trimmed to the columns that carry
at least ``trim`` of the peak contribution.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

CAP = 10.0  # -log10 p similarities are capped here before clustering


def compile_seqlet_kernels_once():
    """Let numba cache tangermeme's seqlet kernels on disk (beside the package, or in $NUMBA_CACHE_DIR): compiling
    them takes ~30 s of CPU, which every interpret job paid again; now the first job on a machine does."""
    from numba.core.registry import CPUDispatcher
    from tangermeme import seqlet

    for kernel in vars(seqlet).values():
        if isinstance(kernel, CPUDispatcher) and not getattr(kernel, "_cache_enabled", False):
            kernel.enable_caching()
            kernel._cache_enabled = True


def call_seqlets(contrib: np.ndarray, threshold: float, min_len: int, max_len: int, limit: int):
    """Seqlets of contributions ``[N, L]``: DataFrame example_idx, start, end, attribution, p-value (best first)."""
    from tangermeme.seqlet import recursive_seqlets

    compile_seqlet_kernels_once()
    seqlets = recursive_seqlets(
        torch.from_numpy(contrib.astype(np.float32)),
        threshold=threshold,
        min_seqlet_len=min_len,
        max_seqlet_len=max_len,
    )
    return seqlets.head(limit).reset_index(drop=True)


def _aligned(
    values: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    widths: np.ndarray,
    offsets: np.ndarray,
    minus: np.ndarray,
    span: np.ndarray,
) -> np.ndarray:
    """Gather ``values [N, 4, L]`` into medoid columns ``span`` for each member: ``[M, 4, len(span)]``.

    Member i on strand + puts its column ``c - offset`` under medoid column c; on strand - its reverse
    complement does, i.e. sequence position ``start + width - 1 - c + offset`` with A<->T, C<->G.
    """
    plus_pos = starts[:, None] + span[None] - offsets[:, None]
    minus_pos = (starts + widths - 1 + offsets)[:, None] - span[None]
    pos = np.where(minus[:, None], minus_pos, plus_pos)
    inside = (pos >= 0) & (pos < values.shape[2])
    picked = values[rows[:, None], :, np.clip(pos, 0, values.shape[2] - 1)]  # [M, S, 4]
    picked = np.where(minus[:, None, None], picked[..., ::-1], picked) * inside[..., None]
    return picked.transpose(0, 2, 1)


def _trim(cwm: np.ndarray, trim: float) -> slice:
    """Contiguous columns around the peak whose absolute contribution is at least ``trim`` x the peak."""
    strength = np.abs(cwm).sum(0)
    keep = strength >= trim * strength.max()
    peak = int(strength.argmax())
    lo, hi = peak, peak + 1
    while lo > 0 and keep[lo - 1]:
        lo -= 1
    while hi < len(keep) and keep[hi]:
        hi += 1
    return slice(lo, hi)


def discover(
    onehot: np.ndarray,
    attributions: np.ndarray,
    threshold: float = 0.01,
    min_len: int = 4,
    max_len: int = 20,
    max_seqlets: int = 400,
    min_support: int = 5,
    link_p: float = 1e-3,
    trim: float = 0.3,
    flank: int = 3,
) -> list[dict]:
    """Motifs of one-hot ``[N, 4, L]`` with attributions ``[N, 4, L]``, largest total contribution first.

    Each motif: ``ppm``/``cwm`` ``[4, W]``, ``support`` (seqlets), ``contribution`` (their summed
    attribution), ``examples`` (indices of the windows it came from).
    """
    from memelite import tomtom

    contrib = attributions * onehot
    seqlets = call_seqlets(contrib.sum(1), threshold, min_len, max_len, max_seqlets)
    if len(seqlets) < min_support:
        return []
    rows, starts = seqlets["example_idx"].to_numpy(int), seqlets["start"].to_numpy(int)
    widths = seqlets["end"].to_numpy(int) - starts
    cwms = [contrib[r, :, s : s + w].astype(np.float64) for r, s, w in zip(rows, starts, widths)]
    p, _, offsets, _, strands = tomtom(cwms, cwms, n_jobs=1)
    similarity = np.minimum(-np.log10(np.maximum(p, 1e-300)), CAP)
    similarity = np.maximum(similarity, similarity.T)
    distance = 1 - similarity / CAP
    np.fill_diagonal(distance, 0)
    groups = fcluster(
        linkage(squareform(distance, checks=False), method="average"),
        t=1 + np.log10(link_p) / CAP,
        criterion="distance",
    )
    motifs = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        if len(members) < min_support:
            continue
        medoid = members[similarity[np.ix_(members, members)].sum(1).argmax()]
        span = np.arange(-flank - max_len, widths[medoid] + flank + max_len)
        args = (
            rows[members],
            starts[members],
            widths[members],
            offsets[members, medoid].astype(int),
            strands[members, medoid].astype(bool),
            span,
        )
        cwm = _aligned(contrib, *args).mean(0)
        counts = _aligned(onehot, *args).sum(0)
        cols = _trim(cwm, trim)
        cols = slice(max(cols.start - flank, 0), min(cols.stop + flank, len(span)))
        pfm = counts[:, cols] + 0.25
        motifs.append(
            {
                "ppm": pfm / pfm.sum(0),
                "cwm": cwm[:, cols],
                "support": int(len(members)),
                "contribution": float(seqlets["attribution"].to_numpy()[members].sum()),
                "examples": sorted({int(r) for r in rows[members]}),
            }
        )
    return sorted(motifs, key=lambda m: -m["contribution"])


def first_conv(model: nn.Module) -> nn.Conv1d | None:
    """The first 1-D convolution that reads the 4-channel one-hot input, if any."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv1d) and m.in_channels == 4), None)


def filter_pwms(conv: nn.Conv1d, onehot: np.ndarray, fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """PPMs ``[F, 4, K]`` of a first-layer convolution and the number of sites behind each ``[F]``.

    A site is a window whose (forward-strand, valid) activation exceeds ``fraction`` of that filter's
    largest activation over all windows; its bases are counted (Basset-style filter-to-PWM).
    """
    x = torch.from_numpy(onehot.astype(np.float32))
    with torch.no_grad():
        act = F.conv1d(x, conv.weight, conv.bias, dilation=conv.dilation).numpy()  # [N, F, P]
    span = conv.dilation[0] * (conv.kernel_size[0] - 1) + 1
    windows = np.lib.stride_tricks.sliding_window_view(onehot, span, axis=2)[..., :: conv.dilation[0]]  # [N, 4, P, K]
    peak = act.max(axis=(0, 2), keepdims=True)
    sites = ((act > fraction * peak) & (peak > 0)).astype(np.float32)
    counts = np.einsum("nfp,ncpk->fck", sites, windows)
    pfm = counts + 0.25
    return pfm / pfm.sum(1, keepdims=True), sites.sum((0, 2)).astype(int)


def information(ppm: np.ndarray) -> float:
    """Total information content in bits of a PPM ``[4, W]`` (uniform background)."""
    return float((2 + (ppm * np.log2(np.clip(ppm, 1e-9, 1))).sum(0)).sum())
