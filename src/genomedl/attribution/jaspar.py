"""Known motifs from JASPAR (pyjaspar's bundled SQLite database, no network) and TOMTOM matching.

Motifs are position probability matrices ``[4, W]`` (rows A, C, G, T). Comparison is memelite's
TOMTOM (complete score, both strands); q-values are Benjamini-Hochberg over all database motifs
for each query, as TOMTOM reports them.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from scipy.stats import false_discovery_control

from genomedl.errors import GenomedlError


@functools.lru_cache(maxsize=4)
def load_jaspar(release: str, collection: str, tax_groups: tuple[str, ...]) -> tuple[list[str], list[str], list]:
    """``(matrix ids, TF names, PPMs [4, W])`` of the latest version of every motif in the selection."""
    from pyjaspar import jaspardb

    try:
        db = jaspardb(release=release)
    except Exception as exc:  # pyjaspar raises plain exceptions for unknown releases
        raise GenomedlError(f"interpret.jaspar.release {release!r}: {exc}") from None
    motifs = db.fetch_motifs(collection=collection, tax_group=list(tax_groups) or None)
    if not motifs:
        raise GenomedlError(
            f"interpret.jaspar: no {collection} motifs for tax groups {list(tax_groups)} in "
            f"{release}; check interpret.jaspar.collection and tax_groups"
        )
    ppms = []
    for m in motifs:
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=float)
        ppms.append(counts / counts.sum(0, keepdims=True))
    return [m.matrix_id for m in motifs], [m.name for m in motifs], ppms


def match(
    queries: list[np.ndarray], ids: list[str], names: list[str], targets: list[np.ndarray], top: int = 3
) -> list[list[dict]]:
    """Best ``top`` database matches of each query PPM: id, name, p, q, offset, strand (+/-), sorted by p."""
    if not queries:
        return []
    from memelite import tomtom

    p, _, offsets, _, strands = tomtom(
        [q.astype(np.float64) for q in queries], [t.astype(np.float64) for t in targets], n_jobs=1
    )
    out = []
    for row in range(len(queries)):
        q = false_discovery_control(np.clip(p[row], 0, 1), method="bh")
        best = np.argsort(p[row], kind="stable")[:top]
        out.append(
            [
                {
                    "id": ids[j],
                    "name": names[j],
                    "p": float(p[row, j]),
                    "q": float(q[j]),
                    "offset": int(offsets[row, j]),
                    "strand": "-" if strands[row, j] else "+",
                }
                for j in best
            ]
        )
    return out


def to_meme(names: list[str], ppms: list[np.ndarray]) -> str:
    """MEME minimal format text of PPMs ``[4, W]`` (readable by MEME suite tools and memelite)."""
    out = io.StringIO()
    out.write(
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n"
        "A 0.25 C 0.25 G 0.25 T 0.25\n\n"
    )
    for name, ppm in zip(names, ppms):
        out.write(f"MOTIF {name}\nletter-probability matrix: alength= 4 w= {ppm.shape[1]}\n")
        for column in ppm.T:
            out.write(" ".join(f"{v:.4f}" for v in column) + "\n")
        out.write("\n")
    return out.getvalue()
