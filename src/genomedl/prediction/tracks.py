"""bedGraph and bigWig tracks of per-window class probabilities, one file of each per class, written as the
windows are scored.

Each window's value covers its bin (:func:`genomedl.prediction.tiling.window_bins`), so the bins of one region
tile it exactly. Bins must arrive sorted by chromosome name, then region start: where regions overlap, the
earlier-starting region's bins win (a later bin is clipped to start after every earlier one on its chromosome).
Intervals are 0-based, half-open, sorted (``sort -k1,1 -k2,2n``, as bedGraphToBigWig needs) and never overlap.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd


def track_name(text: str) -> str:
    """A track-line value without quotes or line breaks."""
    return re.sub(r"[\"\r\n\t]", " ", text)


class TrackWriter:
    """``<class>.bedgraph`` (probabilities with 6 significant digits) and ``<class>.bw`` per class in ``folder``,
    appended chunk by chunk (:meth:`add`); ``sizes``: chrom -> bp, in the order the bins will come."""

    def __init__(self, folder: Path, classes: list[str], title: str, sizes: dict[str, int]):
        import pyBigWig

        self.reach: dict[str, int] = {}  # chrom -> end of the furthest bin written on it
        self.paths, self.bedgraphs, self.bigwigs = [], [], []
        for name in classes:
            path = Path(folder) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.bedgraph"
            label = track_name(f"{title} P({name})")
            handle = open(path, "w", newline="")
            handle.write(
                f'track type=bedGraph name="{label[:60]}" description="{label}" visibility=full '
                "autoScale=off viewLimits=0:1 graphType=bar\n"
            )
            bigwig = pyBigWig.open(str(path.with_suffix(".bw")), "w")
            bigwig.addHeader([(c, int(size)) for c, size in sizes.items()], maxZooms=10)
            self.bedgraphs.append(handle)
            self.bigwigs.append(bigwig)
            self.paths += [path, path.with_suffix(".bw")]

    def add(self, chrom: np.ndarray, lo: np.ndarray, hi: np.ndarray, probs: np.ndarray) -> None:
        """Bins ``[lo, hi)`` on ``chrom`` (``[w]``, in track order) with class probabilities ``[w, C]``."""
        start = lo.copy()
        edges = np.flatnonzero(np.r_[True, chrom[1:] != chrom[:-1], True])
        for a, b in zip(edges[:-1], edges[1:]):
            before = self.reach.get(chrom[a], -1)
            reach = np.maximum.accumulate(np.r_[before, hi[a:b]])
            start[a:b] = np.maximum(lo[a:b], reach[:-1])
            self.reach[chrom[a]] = int(reach[-1])
        keep = start < hi
        chroms, start, end = chrom[keep], start[keep], hi[keep]
        for i, (handle, bigwig) in enumerate(zip(self.bedgraphs, self.bigwigs)):
            value = probs[keep, i]
            body = pd.DataFrame({"chrom": chroms, "start": start, "end": end, "value": value})
            body.to_csv(handle, sep="\t", header=False, index=False, float_format="%.6g", lineterminator="\n")
            bigwig.addEntries(chroms.tolist(), start.tolist(), ends=end.tolist(), values=value.astype(float).tolist())

    def close(self) -> list[Path]:
        """Finish every file; returns their paths."""
        for handle, bigwig in zip(self.bedgraphs, self.bigwigs):
            handle.close()
            bigwig.close()
        return self.paths
