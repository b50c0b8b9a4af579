"""Windows of the model's length over regions, generated and gathered chunk by chunk.

Tiling: region ``[begin, end)`` gets windows starting at ``begin`` and every ``stride`` bp after it; when the
last one falls short of the end, one more window ends exactly at the end; a region shorter than the window
gets one window centred on it. Window ``k`` of a region is computed from ``k`` alone, so a chunk of windows
(and the bins of their track values, :func:`window_bins`) needs nothing from the chunks before or after it:
memory is bounded by the chunk, not by the region (a whole chromosome) or the number of windows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


def window_counts(begin: np.ndarray, end: np.ndarray, length: int, stride: int) -> np.ndarray:
    """Number of windows ``[R]`` of each region."""
    span = end - begin
    return np.where(span <= length, 1, -(-(span - length) // stride) + 1)


def window_starts(begin, end, n, k, length: int, stride: int) -> np.ndarray:
    """Start of window ``k`` (0-based) of regions ``[begin, end)`` with ``n`` windows (arrays of one shape)."""
    span = end - begin
    starts = np.where((k == n - 1) & (span > length), end - length, begin + k * stride)
    return np.where(span < length, begin + span // 2 - length // 2, starts)


def window_bins(begin, end, n, k, length: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(bin start, bin end) of window ``k``: the bases closer to its centre than to a neighbour's centre; the
    first bin reaches back to the region start, the last to its end, so one region's bins tile it exactly."""
    centre = lambda j: window_starts(begin, end, n, j, length, stride) + length // 2  # noqa: E731
    here = centre(k)
    lo = np.where(k == 0, begin, (centre(k - 1) + here) // 2)
    hi = np.where(k == n - 1, end, (here + centre(k + 1)) // 2)
    return lo, hi


def tile_chunks(
    begin: np.ndarray, end: np.ndarray, length: int, stride: int, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The windows of every region, region after region, ``chunk`` at a time: (region ``[w]``, window index
    within its region ``[w]``)."""
    n = window_counts(begin, end, length, stride)
    first = np.cumsum(n) - n
    total = int(n.sum())
    for at in range(0, total, chunk):
        w = np.arange(at, min(at + chunk, total))
        region = np.searchsorted(first, w, side="right") - 1
        yield region, w - first[region]


def gather_windows(
    fetch: Callable[[int, int, int], np.ndarray], region: np.ndarray, starts: np.ndarray, length: int
) -> np.ndarray:
    """Tokens ``[w, L]`` of the windows ``starts`` (consecutive windows of one region share one fetch of
    ``fetch(region, lo, hi)``, which returns the tokens of ``[lo, hi)`` on that region's sequence)."""
    out = np.empty((len(region), length), dtype=np.uint8)
    edges = np.flatnonzero(np.r_[True, region[1:] != region[:-1], True])
    offsets = np.arange(length)
    for a, b in zip(edges[:-1], edges[1:]):
        lo, hi = int(starts[a:b].min()), int(starts[a:b].max()) + length
        out[a:b] = fetch(int(region[a]), lo, hi)[(starts[a:b] - lo)[:, None] + offsets]
    return out
