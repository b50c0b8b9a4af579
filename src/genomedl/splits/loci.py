"""Loci: groups of windows that a split must keep together on a genome (``split.group_by: locus``).

On each record (accession), windows that overlap form one cluster (a sweep over starts). Clusters that
share a gene, or whose genes overlap, form one locus (windows of one gene name more than ``bin_size`` bp apart
are two genes: gene symbols repeat along a genome). Clusters without a gene (splice decoys, promoter
background, intergenic windows) join the nearest locus within ``flank`` bp, else a genomic bin of
``bin_size`` bp. A locus is a union of whole clusters, so no window overlaps a window of another locus,
and a split by locus never puts overlapping windows on both sides. Coordinates: 0-based, end-exclusive, bp.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def overlap_clusters(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Cluster id per interval (int64 ``[N]``): intervals chained by overlaps share one, numbered by position."""
    order = np.argsort(starts, kind="stable")
    reach = np.maximum.accumulate(ends[order])
    new = np.ones(len(order), dtype=bool)
    new[1:] = starts[order][1:] >= reach[:-1]
    cluster = np.empty(len(order), dtype=np.int64)
    cluster[order] = np.cumsum(new) - 1
    return cluster


def _union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    """Root per element of ``n`` after joining each pair of ``pairs`` (int ``[M, 2]``)."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def record_loci(starts: np.ndarray, ends: np.ndarray, genes: np.ndarray, flank: int, bin_size: int) -> list[str]:
    """Locus name per window of one record: ``locus<i>`` (numbered by position) or ``bin<j>``.

    starts, ends: window coordinates ``[N]`` (bp); genes: gene name per window (``""``: none).
    """
    cluster = overlap_clusters(starts, ends)
    n_clusters = int(cluster.max()) + 1
    frame = pd.DataFrame({"cluster": cluster, "start": starts, "end": ends, "gene": genes})
    span = frame.groupby("cluster").agg(start=("start", "min"), end=("end", "max"))
    genic = frame[frame["gene"] != ""].sort_values(["gene", "start"])
    # one gene name, windows more than bin_size apart: two genes that share a symbol (PS1, ARF1 on A. thaliana chr1)
    reach = genic.groupby("gene")["end"].cummax().groupby(genic["gene"]).shift()
    apart = (genic["gene"] != genic["gene"].shift()) | (genic["start"] - reach > bin_size)
    genic = genic.assign(gene=genic["gene"] + "#" + apart.cumsum().astype(str))
    gene_span = genic.groupby("gene").agg(start=("start", "min"), end=("end", "max"))
    # genes whose spans overlap are one locus; a cluster joins the loci of all its genes
    gene_group = pd.Series(
        overlap_clusters(gene_span["start"].to_numpy(), gene_span["end"].to_numpy()), index=gene_span.index
    )
    links = genic.assign(group=genic["gene"].map(gene_group))[["cluster", "group"]].drop_duplicates()
    pairs = links.merge(links.drop_duplicates("group"), on="group")[["cluster_x", "cluster_y"]].to_numpy()
    root = _union_find(n_clusters, pairs)
    has_gene = np.zeros(n_clusters, dtype=bool)
    has_gene[genic["cluster"].to_numpy()] = True
    # gene-free clusters: the nearest genic cluster within ``flank`` bp, else a bin
    genic_ids = np.flatnonzero(has_gene)
    names = np.empty(n_clusters, dtype=object)
    locus_number = {r: i for i, r in enumerate(dict.fromkeys(root[genic_ids]))}
    names[genic_ids] = [f"locus{locus_number[r]}" for r in root[genic_ids]]
    free = np.flatnonzero(~has_gene)
    if len(free):
        lo, hi = span["start"].to_numpy(), span["end"].to_numpy()
        nearest = np.full(len(free), -1)
        if len(genic_ids):
            # genic clusters are ordered by position and do not overlap: the neighbours on either side
            right = np.searchsorted(lo[genic_ids], hi[free], side="left")
            left = right - 1
            gap_left = np.where(left >= 0, lo[free] - hi[genic_ids[np.maximum(left, 0)]], np.inf)
            gap_right = np.where(
                right < len(genic_ids), lo[genic_ids[np.minimum(right, len(genic_ids) - 1)]] - hi[free], np.inf
            )
            side = np.where(gap_left <= gap_right, left, right)
            near = np.minimum(gap_left, gap_right) <= flank
            nearest[near] = genic_ids[side[near]]
        names[free] = [names[n] if n >= 0 else f"bin{lo[c] // bin_size}" for c, n in zip(free, nearest)]
    return names[cluster].tolist()


def locus_keys(labels: pd.DataFrame, flank: int, bin_size: int) -> np.ndarray:
    """``accession:locus<i>`` or ``accession:bin<j>`` per row of labels.tsv (object ``[N]``)."""
    keys = np.empty(len(labels), dtype=object)
    genes = labels["gene"].fillna("").astype(str).to_numpy(dtype=object)
    starts, ends = labels["start"].to_numpy(np.int64), labels["end"].to_numpy(np.int64)
    accessions = labels["accession"].astype(str)
    # a record of one window (labelled sequences: every sequence its own record) is its own locus: named at once
    alone = (accessions.map(accessions.value_counts()) == 1).to_numpy()
    named = np.where(genes[alone] != "", "locus0", "bin" + (starts[alone] // bin_size).astype(str))
    keys[alone] = (accessions[alone] + ":" + named).to_numpy(dtype=object)
    for accession, rows in labels[~alone].groupby("accession", sort=False).indices.items():
        rows = np.flatnonzero(~alone)[rows]
        names = record_loci(starts[rows], ends[rows], genes[rows], flank, bin_size)
        keys[rows] = [f"{accession}:{name}" for name in names]
    return keys
