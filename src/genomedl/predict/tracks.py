"""bedGraph and bigWig tracks of per-window class probabilities, one file of each per class.

Each window's value covers the bases closer to its centre than to a neighbouring window's centre,
so the bins of one region tile it exactly (the first bin reaches back to the region start, the last
one to its end). Where regions overlap, the earlier-starting region's bins win. Intervals are 0-based,
half-open, sorted by chromosome name then start (``sort -k1,1 -k2,2n``, as bedGraphToBigWig needs)
and never overlap.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path, atomic_write


def window_bins(
    owner: np.ndarray, starts: np.ndarray, begin: np.ndarray, end: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(bin start, bin end) ``[W]`` of windows listed region by region, each region's windows left to right."""
    centre = starts + length // 2
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    midpoint = (centre[:-1] + centre[1:]) // 2
    lo = np.where(first, begin[owner], np.r_[0, midpoint])
    hi = np.where(last, end[owner], np.r_[midpoint, 0])
    return lo, hi


def non_overlapping(
    chrom: np.ndarray, lo: np.ndarray, hi: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort bins region by region (chrom, region start, region, bin start) and clip each bin to start after
    every earlier bin on its chrom, so an earlier-starting region keeps all its bases.

    Returns (order of the kept rows, clipped start, end)."""
    frame = pd.DataFrame({"chrom": chrom, "lo": lo, "hi": hi, "owner": owner})
    frame["region_lo"] = frame.groupby("owner")["lo"].transform("min")
    frame = frame.sort_values(["chrom", "region_lo", "owner", "lo"], kind="stable")
    reach = frame.groupby("chrom", sort=False)["hi"].cummax()
    before = reach.groupby(frame["chrom"], sort=False).shift(1).fillna(-1).astype(np.int64)
    start = np.maximum(frame["lo"].to_numpy(), before.to_numpy())
    keep = start < frame["hi"].to_numpy()
    return frame.index.to_numpy()[keep], start[keep], frame["hi"].to_numpy()[keep]


def track_name(text: str) -> str:
    """A track-line value without quotes or line breaks."""
    return re.sub(r"[\"\r\n\t]", " ", text)


def write_bigwig(
    path: Path, chrom: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray, sizes: dict[str, int]
) -> None:
    """A bigWig of sorted, non-overlapping intervals (0-based, half-open, bp) with ``sizes`` (chrom -> bp)."""
    import pyBigWig

    with atomic_path(path) as tmp:
        track = pyBigWig.open(str(tmp), "w")
        try:
            track.addHeader([(c, int(sizes[c])) for c in dict.fromkeys(chrom)], maxZooms=10)
            track.addEntries(chrom.tolist(), start.tolist(), ends=end.tolist(), values=value.astype(float).tolist())
        finally:
            track.close()


def write_tracks(
    out_dir: Path,
    chrom: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    owner: np.ndarray,
    probs: np.ndarray,
    classes: list[str],
    title: str,
    sizes: dict[str, int],
) -> list[Path]:
    """``<class>.bedgraph`` (probabilities with 6 significant digits) and ``<class>.bw`` per class in ``out_dir``;
    ``owner`` is each window's region, ``sizes`` the length in bp of each chrom."""
    rows, start, end = non_overlapping(np.asarray(chrom), lo, hi, owner)
    chroms = np.asarray(chrom, dtype=object)[rows]
    paths = []
    for i, name in enumerate(classes):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        path = Path(out_dir) / f"{safe}.bedgraph"
        label = track_name(f"{title} P({name})")
        body = pd.DataFrame({"chrom": np.asarray(chrom)[rows], "start": start, "end": end, "value": probs[rows, i]})
        with atomic_write(path, newline="") as handle:
            handle.write(
                f'track type=bedGraph name="{label[:60]}" description="{label}" visibility=full '
                "autoScale=off viewLimits=0:1 graphType=bar\n"
            )
            body.to_csv(handle, sep="\t", header=False, index=False, float_format="%.6g", lineterminator="\n")
        write_bigwig(path.with_suffix(".bw"), chroms, start, end, probs[rows, i], sizes)
        paths += [path, path.with_suffix(".bw")]
    return paths
