"""Window policy and vectorised window cutting.

Coordinates are 0-based, end-exclusive, in bp. Windows on the minus strand are reverse-complemented,
so every window reads 5'->3' on the strand of its label.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from genomedl.choices import LABELLED_SEQUENCES, LONGER, OFF_EDGE, SHORTER, WINDOW_MODES, in_words
from genomedl.config import stage_settings
from genomedl.errors import GenomedlError
from genomedl.sequence import reverse_complement

N = ord("N")
_DEFAULTS = stage_settings("window", {})  # the schema's defaults of config key datasets.<name>.window


@dataclass
class WindowPolicy:
    """length: bp; mode: ``centred`` (one window per labelled run or site) or ``tiled`` (centres every
    ``stride`` bp); off_edge: ``drop`` or ``pad`` (with N); max_n_fraction: windows with more N are
    dropped; jitter: windows shift by a uniform random integer in [-jitter, jitter] bp (seeded);
    core: bp at the window centre that must all carry the label (flanking context = length - core);
    length None: ``default_length`` for annotated sources, the longest sequence for labelled ones.
    Labelled sources: sequences ``whole`` (shorter ones ``pad``/``drop``, longer ones ``crop``/``tile``)
    or ``windows`` (cut like an annotated run)."""

    length: int | None = _DEFAULTS["length"]
    default_length: int = _DEFAULTS["default_length"]
    sequences: str = _DEFAULTS["sequences"]
    shorter: str = _DEFAULTS["shorter"]
    longer: str = _DEFAULTS["longer"]
    mode: str = _DEFAULTS["mode"]
    stride: int = _DEFAULTS["stride"]
    off_edge: str = _DEFAULTS["off_edge"]
    max_n_fraction: float = _DEFAULTS["max_n_fraction"]
    jitter: int = _DEFAULTS["jitter"]
    core: int = _DEFAULTS["core"]

    def __post_init__(self):
        checks = [
            (self.length is None or self.length >= 1, "length", "a positive number of bp"),
            (self.default_length >= 1, "default_length", "a positive number of bp"),
            (self.sequences in LABELLED_SEQUENCES, "sequences", in_words(LABELLED_SEQUENCES)),
            (self.shorter in SHORTER, "shorter", in_words(SHORTER)),
            (self.longer in LONGER, "longer", in_words(LONGER)),
            (self.mode in WINDOW_MODES, "mode", in_words(WINDOW_MODES)),
            (self.stride >= 1, "stride", "a positive number of bp"),
            (self.off_edge in OFF_EDGE, "off_edge", in_words(OFF_EDGE)),
            (0 <= self.max_n_fraction <= 1, "max_n_fraction", "a fraction between 0 and 1"),
            (self.jitter >= 0, "jitter", "0 or more bp"),
            (1 <= self.core <= (self.length or self.core), "core", "between 1 and window.length bp"),
        ]
        for ok, key, what in checks:
            if not ok:
                raise GenomedlError(f"config key window.{key}: {getattr(self, key)!r} is not valid; use {what}")

    @classmethod
    def from_config(cls, window: dict) -> "WindowPolicy":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(window) - known)
        if unknown:
            raise GenomedlError(f"config key window: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
        return cls(**window)


def tile_centres(run_start: np.ndarray, run_end: np.ndarray, policy: WindowPolicy) -> tuple[np.ndarray, np.ndarray]:
    """Window centres inside runs ``[start, end)``: (centres int64 [m], index of the run of each centre)."""
    run_start, run_end = np.asarray(run_start, np.int64), np.asarray(run_end, np.int64)
    if policy.mode == "centred":
        return (run_start + run_end) // 2, np.arange(len(run_start))
    counts = np.maximum((run_end - run_start + policy.stride - 1) // policy.stride, 0)
    owner = np.repeat(np.arange(len(run_start)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    centres = np.minimum(run_start[owner] + offsets * policy.stride + policy.stride // 2, run_end[owner] - 1)
    return centres, owner


def anchored_start(anchor: np.ndarray, strand: np.ndarray, length: int, upstream: int) -> np.ndarray:
    """Window starts that put ``upstream`` bp before the boundary ``anchor`` on the label's strand."""
    return np.where(np.asarray(strand) < 0, anchor - (length - upstream), anchor - upstream).astype(np.int64)


def jitter(n: int, policy: WindowPolicy, rng: np.random.Generator) -> np.ndarray:
    """Random shifts in bp, int64 [n] (all zero when ``policy.jitter`` is 0)."""
    if policy.jitter == 0:
        return np.zeros(n, np.int64)
    return rng.integers(-policy.jitter, policy.jitter + 1, size=n).astype(np.int64)


def cut_windows(
    sequence: np.ndarray,
    start: np.ndarray,
    strand: np.ndarray,
    policy: WindowPolicy,
    lo: np.ndarray | int = 0,
    hi: np.ndarray | int | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Cut ASCII windows ``[m, length]`` (uint8) from ``sequence`` at ``start``.

    ``lo``/``hi`` bound the record of each window (default: the whole sequence). Windows that leave
    their record are dropped or padded with N; windows with more than ``max_n_fraction`` N are dropped.
    Returns (windows, kept mask over the input [n] bool, counts).
    """
    length = policy.length
    start = np.asarray(start, np.int64)
    hi = len(sequence) if hi is None else hi
    lo = np.broadcast_to(np.asarray(lo, np.int64), start.shape)
    hi = np.broadcast_to(np.asarray(hi, np.int64), start.shape)
    inside = (start >= lo) & (start + length <= hi)
    keep = inside if policy.off_edge == "drop" else np.ones(len(start), bool)
    counts = {"dropped_off_edge": int((~keep).sum())}
    windows = np.full((int(keep.sum()), length), N, np.uint8)
    whole = inside[keep]
    if whole.any():  # a view of every window of the sequence: copies only the windows taken
        windows[whole] = np.lib.stride_tricks.sliding_window_view(sequence, length)[start[keep][whole]]
    if (~whole).any() and len(sequence):  # windows that leave their record: N outside it
        edge = np.flatnonzero(keep)[~whole]
        index = start[edge, None] + np.arange(length)
        outside = (index < lo[edge, None]) | (index >= hi[edge, None])
        cut = sequence[np.clip(index, 0, len(sequence) - 1)]
        cut[outside] = N
        windows[~whole] = cut
    minus = np.asarray(strand)[keep] < 0
    windows[minus] = reverse_complement(windows[minus])
    n_fraction = (windows == N).mean(axis=1) if len(windows) else np.zeros(0)
    dense = n_fraction <= policy.max_n_fraction
    counts["dropped_too_many_n"] = int((~dense).sum())
    kept = np.flatnonzero(keep)[dense]
    mask = np.zeros(len(start), bool)
    mask[kept] = True
    return windows[dense], mask, counts
