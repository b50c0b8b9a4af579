"""Tasks: where the windows of one record lie and what they are labelled.

Region tasks (``exon_intron``, ``coding``, ``region``) label bases: every base covered by intervals of
exactly one (class, strand) pair belongs to a labelled run; runs are tiled or centred. Site tasks
(``splice_site``, ``promoter``) anchor windows on boundaries and draw negatives with a seeded RNG.
All functions return ``Anchors``: window start (bp, 0-based), strand (+1/-1), label index, gene.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from genomedl.config import stage_settings
from genomedl.errors import GenomedlError
from genomedl.windows.annotation import Annotation, Feature
from genomedl.windows.policy import WindowPolicy, anchored_start, jitter, tile_centres

_DEFAULTS = stage_settings("task_options", {})  # the schema's defaults of config key datasets.<name>.task_options

TASK_CLASSES = {
    "exon_intron": ["exon", "intron"],
    "coding": ["cds", "noncoding"],
    "region": ["exon", "intron", "utr", "intergenic"],
    "splice_site": ["donor", "acceptor", "none"],
    "promoter": ["promoter", "background"],
}


@dataclass
class TaskOptions:
    """negatives: negatives (splice decoys, promoter background) per positive window; tss_downstream:
    bp of a promoter window downstream of the start; background_distance: bp that background windows
    keep from any start."""

    negatives: float = _DEFAULTS["negatives"]
    tss_downstream: int = _DEFAULTS["tss_downstream"]
    background_distance: int = _DEFAULTS["background_distance"]

    @classmethod
    def from_config(cls, options: dict | None) -> "TaskOptions":
        allowed = ", ".join(cls.__dataclass_fields__)
        for key, value in (options or {}).items():
            if key not in cls.__dataclass_fields__:
                raise GenomedlError(f"config key task_options: unknown key {key!r} (allowed: {allowed})")
            if not isinstance(value, (int, float)) or value < 0:
                raise GenomedlError(f"config key task_options.{key}: {value!r} is not valid; use a number >= 0")
        return cls(**(options or {}))


@dataclass
class Anchors:
    start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    strand: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    label: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gene: np.ndarray = field(default_factory=lambda: np.zeros(0, object))


def _intervals(features: list[Feature], label: int, parts: str = "parts") -> list[tuple]:
    """(start, end, strand, label, gene) rows of the parts (or gaps) of ``features``."""
    rows = []
    for f in features:
        chosen = f.parts if parts == "parts" else f.gaps()
        rows += [(int(s), int(e), f.strand, label, f.gene) for s, e in chosen if e > s]
    return rows


def _spliced(features: list[Feature]) -> list[Feature]:
    return [f for f in features if len(f.parts) > 1]


def _utr_parts(tx: Feature) -> np.ndarray:
    """Exonic parts of a transcript outside its CDS span (its UTRs), int64 ``[k, 2]``."""
    before = np.stack([tx.parts[:, 0], np.minimum(tx.parts[:, 1], tx.cds[0])], axis=1)
    after = np.stack([np.maximum(tx.parts[:, 0], tx.cds[1]), tx.parts[:, 1]], axis=1)
    utr = np.concatenate([before, after])
    return utr[utr[:, 1] > utr[:, 0]]


def region_intervals(ann: Annotation, task: str) -> list[tuple]:
    """Labelled intervals (start, end, strand, class index, gene) of a region task.

    Exons of spliced transcripts/CDS, introns their gaps; UTR: exonic bases of a transcript outside
    its CDS; a transcript other than mRNA without CDS is a non-coding RNA (exon, never UTR).
    """
    spliced = _spliced(ann.transcripts) + _spliced(ann.cds)
    introns = _intervals(ann.introns, 1) + _intervals(spliced, 1, "gaps")
    if task == "exon_intron":
        return _intervals(ann.exons, 0) + _intervals(spliced, 0) + introns
    utr = _intervals(ann.utrs, 2)
    noncoding_rna = []
    for tx in ann.transcripts:
        if tx.cds is not None:
            utr += [(int(s), int(e), tx.strand, 2, tx.gene) for s, e in _utr_parts(tx)]
        elif tx.kind != "mRNA":
            noncoding_rna += _intervals([tx], 0)
    cds = _intervals(ann.cds, 0)
    if task == "region":
        return cds + noncoding_rna + introns + utr
    return cds + [(s, e, t, 1, g) for s, e, t, _, g in introns + utr + noncoding_rna]


def _runs(rows: list[tuple], n_classes: int, length: int, occupied: list[Feature], background: int | None):
    """Maximal runs of bases with one (class, strand): (start, end, class, strand) int64 arrays + genes."""
    rows = sorted(set(rows))
    starts = np.array([r[0] for r in rows], np.int64).clip(0, length)
    ends = np.array([r[1] for r in rows], np.int64).clip(0, length)
    codes = np.array([r[3] * 2 + (r[2] < 0) for r in rows], np.int64)
    spans = np.array([f.span for f in occupied], np.int64).reshape(-1, 2).clip(0, length)
    bounds = np.unique(np.concatenate([starts, ends, spans.ravel(), [0, length]]))
    cover = np.zeros((2 * n_classes + 1, len(bounds)), np.int64)
    np.add.at(cover, (codes, np.searchsorted(bounds, starts)), 1)
    np.add.at(cover, (codes, np.searchsorted(bounds, ends)), -1)
    np.add.at(cover, (-1, np.searchsorted(bounds, spans[:, 0])), 1)
    np.add.at(cover, (-1, np.searchsorted(bounds, spans[:, 1])), -1)
    covered = np.cumsum(cover, axis=1)[:, :-1] > 0
    labelled = covered[:-1]
    code = np.where(labelled.sum(axis=0) == 1, labelled.argmax(axis=0), -1)
    if background is not None:
        empty = ~covered.any(axis=0)
        code[empty] = background * 2
    genes = _segment_genes(rows, np.searchsorted(bounds, starts), np.searchsorted(bounds, ends), len(code))
    change = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    run_start, run_end, run_code = bounds[change], bounds[np.r_[change[1:], len(code)]], code[change]
    keep = run_code >= 0
    return run_start[keep], run_end[keep], run_code[keep], bounds, genes


def _segment_genes(rows: list[tuple], lo: np.ndarray, hi: np.ndarray, n_segments: int) -> np.ndarray:
    """Genes of each segment between bounds, object ``[n_segments]``: the sorted, comma-joined names of the
    genes whose rows (segments ``lo[i]`` up to ``hi[i]``) cover it; "" where none does."""
    names, code = np.unique(np.array([r[4] for r in rows], dtype=object).astype(str), return_inverse=True)
    widths = hi - lo
    segment = np.repeat(lo, widths) + np.arange(widths.sum()) - np.repeat(np.cumsum(widths) - widths, widths)
    pairs = pd.DataFrame({"segment": segment, "gene": np.repeat(code, widths)})
    pairs = pairs[names[pairs["gene"]] != ""].drop_duplicates().sort_values(["segment", "gene"])
    segment, gene = pairs["segment"].to_numpy(), names[pairs["gene"].to_numpy()].astype(object)
    genes = np.full(n_segments, "", dtype=object)
    genes[segment] = gene  # one gene per segment; segments with several are joined below
    first = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    size = np.diff(np.r_[first, len(segment)])
    for at, n in zip(first[size > 1], size[size > 1]):
        genes[segment[at]] = ",".join(gene[at : at + n])
    return genes


def region_anchors(ann: Annotation, task: str, length: int, policy: WindowPolicy, rng: np.random.Generator) -> Anchors:
    """Windows tiled over (or centred on) labelled runs; a window's label is the class of its core."""
    n_classes = len(TASK_CLASSES[task])
    background = (
        TASK_CLASSES[task].index("intergenic" if task == "region" else "noncoding")
        if task in ("region", "coding")
        else None
    )
    rows = region_intervals(ann, task)
    if not rows and background is None:
        return Anchors()
    start, end, code, bounds, genes = _runs(rows, n_classes, length, ann.all_features(), background)
    centres, owner = tile_centres(start, end, policy)
    centres = centres + jitter(len(centres), policy, rng)
    core_start = centres - policy.core // 2
    run = np.searchsorted(start, centres, side="right") - 1
    pure = (run >= 0) & (core_start >= start[run.clip(0)]) & (core_start + policy.core <= end[run.clip(0)])
    centres, run = centres[pure], run[pure]
    segment = np.searchsorted(bounds, centres, side="right") - 1
    strand = np.where(code[run] % 2 == 1, -1, 1).astype(np.int8)
    anchors = Anchors(centres - policy.length // 2, strand, code[run] // 2, genes[segment])
    order = np.lexsort((anchors.strand, anchors.start))
    return Anchors(*(a[order] for a in (anchors.start, anchors.strand, anchors.label, anchors.gene)))


def _sample(candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct rows of ``candidates`` (all when fewer), in their original order."""
    if n >= len(candidates):
        return candidates
    return candidates[np.sort(rng.choice(len(candidates), size=n, replace=False))]


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """bool ``[n]``: each of ``values`` is in ``sorted_set`` (sorted int64; binary search, no table)."""
    at = np.searchsorted(sorted_set, values).clip(0, max(len(sorted_set) - 1, 0))
    return sorted_set[at] == values if len(sorted_set) else np.zeros(len(values), bool)


def _dinucleotides(sequence: np.ndarray, plus: str, minus: str) -> np.ndarray:
    """Boundaries of a splice-site dinucleotide on both strands, int64 ``[m, 2]`` (boundary, strand).

    ``plus`` GT (donor) sits right after its boundary, AG (acceptor) right before it; on the minus
    strand the genome reads their reverse complements ``minus`` (AC, CT).
    """

    def where(pair: str) -> np.ndarray:
        return np.flatnonzero((sequence[:-1] == ord(pair[0])) & (sequence[1:] == ord(pair[1])))

    donor = plus == "GT"
    on_plus, on_minus = where(plus) + (0 if donor else 2), where(minus) + (2 if donor else 0)
    return np.concatenate(
        [np.stack([on_plus, np.ones_like(on_plus)], 1), np.stack([on_minus, -np.ones_like(on_minus)], 1)]
    )


def splice_anchors(
    ann: Annotation, sequence: np.ndarray, policy: WindowPolicy, options: TaskOptions, rng: np.random.Generator
) -> Anchors:
    """Donor/acceptor windows centred on annotated exon-intron boundaries of spliced transcripts, plus
    decoys: GT (donor-like) and AG (acceptor-like) dinucleotides, either strand, not annotated."""
    introns = [
        (s, e, t, 0, g)
        for s, e, t, _, g in _intervals(_spliced(ann.transcripts) + _spliced(ann.cds), 0, "gaps")
        + _intervals(ann.introns, 0)
    ]
    rows = sorted(
        {(s if t > 0 else e, t, 0, g) for s, e, t, _, g in introns}
        | {(e if t > 0 else s, t, 1, g) for s, e, t, _, g in introns}
    )
    boundary = np.array([r[0] for r in rows], np.int64)
    strand = np.array([r[1] for r in rows], np.int8)
    label = np.array([r[2] for r in rows], np.int64)
    gene = np.array([r[3] for r in rows], dtype=object)
    length, upstream = policy.length, policy.length // 2
    annotated = np.sort(boundary * 2 + (strand < 0))
    wanted = int(round(options.negatives * len({r[:3] for r in rows}) / 2))  # per positive site, not per gene
    decoys = []
    for candidates in (_dinucleotides(sequence, "GT", "AC"), _dinucleotides(sequence, "AG", "CT")):
        starts = anchored_start(candidates[:, 0], candidates[:, 1], length, upstream)
        fits = (starts >= 0) & (starts + length <= len(sequence))
        novel = ~_member(candidates[:, 0] * 2 + (candidates[:, 1] < 0), annotated)
        decoys.append(_sample(candidates[fits & novel], wanted, rng))
    decoys = np.concatenate(decoys)
    boundary = np.concatenate([boundary, decoys[:, 0]])
    strand = np.concatenate([strand, decoys[:, 1]]).astype(np.int8)
    label = np.concatenate([label, np.full(len(decoys), 2)])
    gene = np.concatenate([gene, np.full(len(decoys), "", dtype=object)])
    start = anchored_start(boundary, strand, length, upstream) + jitter(len(boundary), policy, rng)
    return Anchors(start, strand, label, gene)


def promoter_anchors(
    ann: Annotation, sequence: np.ndarray, policy: WindowPolicy, options: TaskOptions, rng: np.random.Generator
) -> Anchors:
    """Windows ending ``tss_downstream`` bp past each transcript or gene 5' end (strand-aware), and
    background windows of the same record at least ``background_distance`` bp from every start."""
    starts = {(f.span[0] if f.strand > 0 else f.span[1], f.strand, f.gene) for f in ann.transcripts + ann.genes}
    first = {}
    for tss, strand, gene in sorted(starts):
        first.setdefault((tss, strand), gene)
    tss = np.array([k[0] for k in first], np.int64)
    strand = np.array([k[1] for k in first], np.int8)
    gene = np.array(list(first.values()), dtype=object)
    length = policy.length
    upstream = length - min(options.tss_downstream, length)
    grid = np.arange(0, max(len(sequence) - length + 1, 0), policy.stride, dtype=np.int64)
    near = np.sort(tss)
    distance = options.background_distance
    lo = np.searchsorted(near, grid - distance, side="left")
    hi = np.searchsorted(near, grid + length + distance, side="left")
    background = _sample(grid[lo == hi], int(round(options.negatives * len(tss))), rng)
    bg_strand = rng.choice(np.array([1, -1], np.int8), size=len(background))
    start = np.concatenate([anchored_start(tss, strand, length, upstream), background])
    start += jitter(len(start), policy, rng)
    return Anchors(
        start,
        np.concatenate([strand, bg_strand]).astype(np.int8),
        np.concatenate([np.zeros(len(tss), np.int64), np.ones(len(background), np.int64)]),
        np.concatenate([gene, np.full(len(background), "", dtype=object)]),
    )


def task_anchors(
    task: str,
    ann: Annotation,
    sequence: np.ndarray,
    policy: WindowPolicy,
    options: TaskOptions,
    rng: np.random.Generator,
) -> Anchors:
    """Anchors of ``task`` on one record (``sequence``: uint8 ASCII, upper case)."""
    if task == "splice_site":
        return splice_anchors(ann, sequence, policy, options, rng)
    if task == "promoter":
        return promoter_anchors(ann, sequence, policy, options, rng)
    return region_anchors(ann, task, len(sequence), policy, rng)
