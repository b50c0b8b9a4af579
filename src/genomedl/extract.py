"""Extract stage: labelled fixed-length windows from GenBank records.

Task ``exon_intron``: exons are ``exon`` features and the parts of joined (spliced) mRNA/CDS
locations; introns are ``intron`` features and the gaps between consecutive parts. A base annotated
as both (alternative splicing, overlapping genes) is ambiguous and never used as a window centre.
Windows on the minus strand are reverse-complemented. Coordinates are 0-based, end-exclusive.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from .errors import GenomedlError
from .fetch.genbank_text import parse_record, split_records
from .sequence import normalise, reverse_complement
from .tables import write_json, write_tsv

LABEL_COLUMNS = ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
TASK_CLASSES = {"exon_intron": ["exon", "intron"]}
SPLICED_TYPES = ("mRNA", "CDS")


@dataclass
class WindowPolicy:
    """length: bp; mode: ``centred`` (one window per interval) or ``tiled`` (centres every ``stride`` bp);
    off_edge: ``drop`` or ``pad`` (with N); max_n_fraction: windows with more N are dropped."""

    length: int = 200
    mode: str = "tiled"
    stride: int = 100
    off_edge: str = "drop"
    max_n_fraction: float = 0.1


@dataclass
class Intervals:
    start: np.ndarray   # int64 [n]
    end: np.ndarray     # int64 [n]
    strand: np.ndarray  # int8 [n], +1 / -1
    label: np.ndarray   # int64 [n], index into the task's classes
    gene: list


def _gene_name(feature) -> str:
    for key in ("gene", "locus_tag", "product"):
        if key in feature.qualifiers:
            return feature.qualifiers[key][0]
    return ""


def exon_intron_intervals(record, log=print) -> Intervals:
    """Exon (label 0) and intron (label 1) intervals of one record."""
    rows = []
    for feature in record.features:
        if feature.location is None:
            continue
        gene = _gene_name(feature)
        if feature.type in ("exon", "intron"):
            label = 0 if feature.type == "exon" else 1
            for part in feature.location.parts:
                rows.append((int(part.start), int(part.end), part.strand or 1, label, gene))
        elif feature.type in SPLICED_TYPES and len(feature.location.parts) > 1:
            parts = feature.location.parts
            strands = {part.strand for part in parts}
            ordered = sorted(parts, key=lambda part: int(part.start))
            starts = [int(part.start) for part in ordered]
            ends = [int(part.end) for part in ordered]
            if len(strands) != 1 or any(s < e for s, e in zip(starts[1:], ends[:-1])):
                log(f"note: {record.id}: {feature.type} {gene} is trans-spliced or overlaps itself; skipped")
                continue
            strand = strands.pop() or 1
            rows += [(s, e, strand, 0, gene) for s, e in zip(starts, ends)]
            rows += [(e, s, strand, 1, gene) for e, s in zip(ends[:-1], starts[1:]) if s > e]
    if not rows:
        return Intervals(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int8, np.int64)), [])
    start, end, strand, label, gene = zip(*rows)
    return Intervals(np.array(start, np.int64), np.array(end, np.int64), np.array(strand, np.int8),
                     np.array(label, np.int64), list(gene))


def window_centres(iv: Intervals, policy: WindowPolicy, length: int) -> pd.DataFrame:
    """Window centres (0-based) per interval; drops centres covered by intervals of two labels."""
    if policy.mode == "centred":
        counts = np.ones(len(iv.start), dtype=np.int64)
        centres = (iv.start + iv.end) // 2
    elif policy.mode == "tiled":
        counts = np.maximum((iv.end - iv.start + policy.stride - 1) // policy.stride, 0)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        centres = np.repeat(iv.start, counts) + offsets * policy.stride + policy.stride // 2
        centres = np.minimum(centres, np.repeat(iv.end - 1, counts))
    else:
        raise GenomedlError(f"unknown window mode {policy.mode!r} (config key window.mode); use centred or tiled")
    owner = np.repeat(np.arange(len(iv.start)), counts)
    frame = pd.DataFrame({"centre": centres, "strand": iv.strand[owner], "label": iv.label[owner],
                          "gene": [iv.gene[i] for i in owner]})
    coverage = np.zeros((2, length + 1), dtype=np.int32)
    for label in (0, 1):
        chosen = iv.label == label
        np.add.at(coverage[label], iv.start[chosen], 1)
        np.add.at(coverage[label], iv.end[chosen], -1)
    covered = np.cumsum(coverage, axis=1)[:, :length] > 0
    ambiguous = covered.all(axis=0)
    frame = frame[~ambiguous[frame["centre"].to_numpy()]]
    return frame.drop_duplicates(["centre", "strand", "label"]).sort_values(["centre", "strand"], kind="stable")


def record_windows(record, policy: WindowPolicy, origin: str, log=print) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Labelled windows of one record: (label rows, ASCII windows ``[n, L]`` uint8, counts)."""
    sequence, counts = normalise(bytes(record.seq), f"{origin}: {record.id}")
    intervals = exon_intron_intervals(record, log)
    frame = window_centres(intervals, policy, len(sequence))
    start = frame["centre"].to_numpy() - policy.length // 2
    if policy.off_edge == "pad":
        sequence = np.concatenate([np.full(policy.length, ord("N"), np.uint8), sequence,
                                   np.full(policy.length, ord("N"), np.uint8)])
        offset = policy.length
    else:
        inside = (start >= 0) & (start + policy.length <= len(sequence))
        counts["dropped_off_edge"] = int((~inside).sum())
        frame, start, offset = frame[inside], start[inside], 0
    windows = sequence[(start + offset)[:, None] + np.arange(policy.length)]
    minus = frame["strand"].to_numpy() < 0
    windows[minus] = reverse_complement(windows[minus])
    n_fraction = (windows == ord("N")).mean(axis=1) if len(windows) else np.zeros(0)
    keep = n_fraction <= policy.max_n_fraction
    counts["dropped_too_many_n"] = int((~keep).sum())
    frame, start, windows = frame[keep], start[keep], windows[keep]
    strand = np.where(frame["strand"].to_numpy() < 0, "-", "+")
    end = start + policy.length
    rows = pd.DataFrame({
        "id": [f"{record.id}:{s}-{e}:{t}" for s, e, t in zip(start, end, strand)],
        "label": frame["label"].to_numpy(), "accession": record.id, "gene": frame["gene"].to_numpy(),
        "group": record.id, "start": start, "end": end, "strand": strand,
    })
    return rows, windows, counts


def write_indexed_fasta(ids: list[str], windows: np.ndarray, out_fasta: Path) -> None:
    """Write bgzipped FASTA + .fai + .gzi (pysam) atomically: the FASTA is renamed into place last."""
    out_fasta.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_fasta.parent, prefix=".extract.") as tmp:
        plain, packed = Path(tmp) / "plain.fa", Path(tmp) / out_fasta.name
        with open(plain, "wb") as handle:
            for name, row in zip(ids, windows):
                handle.write(b">" + name.encode() + b"\n" + row.tobytes() + b"\n")
        pysam.tabix_compress(str(plain), str(packed), force=True)
        pysam.faidx(str(packed))
        for suffix in (".fai", ".gzi"):
            shutil.move(str(packed) + suffix, str(out_fasta) + suffix)
        shutil.move(str(packed), str(out_fasta))


def run_extract(records_path: Path, task: str, policy: WindowPolicy, out_fasta: Path, out_labels: Path,
                out_summary: Path, log=print) -> int:
    """Extract labelled windows from every record of ``records_path`` (GenBank, gzip or plain)."""
    if task not in TASK_CLASSES:
        raise GenomedlError(f"unknown task {task!r} (config key datasets.<name>.task); "
                            f"choose one of {', '.join(TASK_CLASSES)}")
    classes = TASK_CLASSES[task]
    opener = gzip.open if str(records_path).endswith(".gz") else open
    with opener(records_path, "rt") as handle:
        texts = split_records(handle.read(), str(records_path))
    frames, arrays = [], []
    totals = {"lowercase": 0, "iupac_to_n": 0, "dropped_off_edge": 0, "dropped_too_many_n": 0}
    for number, text in enumerate(texts, start=1):
        record = parse_record(text, str(records_path), number, log)
        rows, windows, counts = record_windows(record, policy, str(records_path), log)
        frames.append(rows)
        arrays.append(windows)
        for key, value in counts.items():
            totals[key] += value
    labels = pd.concat(frames, ignore_index=True)
    if labels.empty:
        raise GenomedlError(f"{records_path}: no {task} windows of {policy.length} bp in any record; "
                            "check that the records have spliced annotations or shorten window.length")
    labels["label"] = [classes[i] for i in labels["label"]]
    found = sorted(set(labels["label"]))
    if len(found) < 2:
        raise GenomedlError(f"{records_path}: only class {found[0]!r} found for task {task}; "
                            "a classifier needs at least two classes: add records")
    windows = np.concatenate(arrays)
    write_indexed_fasta(labels["id"].tolist(), windows, out_fasta)
    write_tsv(labels[LABEL_COLUMNS], out_labels)
    summary = {"task": task, "classes": classes, "window_length": policy.length, "records": len(texts),
               "windows": len(labels), "class_counts": labels["label"].value_counts().sort_index().to_dict(),
               "bases": totals}
    write_json(summary, out_summary)
    log(f"extract: {len(labels)} windows of {policy.length} bp from {len(texts)} records; "
        f"classes {summary['class_counts']}")
    return len(labels)
