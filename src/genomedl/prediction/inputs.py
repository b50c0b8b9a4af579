"""Inputs to predict on, as regions whose tokens are fetched on demand (windows: :mod:`.tiling`).

* FASTA (plain or gzip; pysam) and CSV (column ``sequence``, optional ``id``): each sequence is a region
  of its own, held in RAM; bases outside it are N.
* BED regions on an indexed reference FASTA (pysam): each region lies on its contig, whose bases are read
  from the reference a chunk of windows at a time (so a whole chromosome is tiled in bounded memory);
  windows take their flanks from the genome; only bases beyond a contig end are N.

Coordinates are 0-based, half-open. ``n_padded`` counts a window's N bases that lie outside its sequence or
contig.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from genomedl.encoding.tokens import bytes_to_tokens
from genomedl.errors import GenomedlError
from genomedl.integrity import check_fai, closest, quiet_htslib, require_bgzip

N_TOKEN = 4


@dataclass
class Regions:
    """Regions to tile: region ``i`` is ``chrom[i]:begin[i]-end[i]``, on a sequence of ``limit[i]`` bp;
    ``fetch(i, lo, hi)`` returns the tokens ``[hi - lo]`` of ``[lo, hi)`` on it (N beyond its ends)."""

    names: list[str]
    chrom: list[str]
    begin: np.ndarray
    end: np.ndarray
    limit: np.ndarray
    fetch: Callable[[int, int, int], np.ndarray]


def _pack(pieces: list[np.ndarray], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate token arrays with ``pad`` N on each side of each: (flat, index of each piece's first token)."""
    sizes = np.array([len(p) + 2 * pad for p in pieces], dtype=np.int64)
    first = np.cumsum(sizes) - sizes + pad
    flat = np.full(int(sizes.sum()), N_TOKEN, dtype=np.uint8)
    for at, piece in zip(first, pieces):
        flat[at : at + len(piece)] = piece
    return flat, first


def _sequences(names: list[str], raws: list[bytes], origins: list[str], pad: int) -> Regions:
    if not raws:
        raise GenomedlError(f"{origins[0] if origins else 'input'}: no sequences to predict on")
    seen: set[str] = set()
    for name, origin in zip(names, origins):
        if name in seen:
            raise GenomedlError(f"{origin}: duplicate id {name!r}; ids name the bedGraph tracks, make them unique")
        seen.add(name)
    pieces = []
    for raw, origin in zip(raws, origins):
        if not raw:
            raise GenomedlError(f"{origin}: empty sequence; remove it")
        pieces.append(bytes_to_tokens(raw, origin))
    flat, first = _pack(pieces, pad)
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    fetch = lambda i, lo, hi: flat[first[i] + lo : first[i] + hi]  # noqa: E731  (windows reach <= pad beyond)
    return Regions(names, list(names), np.zeros(len(pieces), np.int64), lengths, lengths, fetch)


def read_fasta(path: Path, pad: int) -> Regions:
    """Every record of a FASTA file (plain or gzip) as one region."""
    names, raws, origins = [], [], []
    try:
        with pysam.FastxFile(str(path)) as handle:
            for number, entry in enumerate(handle, start=1):
                if entry.quality is not None:
                    raise GenomedlError(f"{path}: record {number} is FASTQ, not FASTA; convert it")
                names.append(entry.name)
                raws.append((entry.sequence or "").encode())
                origins.append(f"{path}: record {number} ({entry.name})")
    except (OSError, ValueError) as exc:
        raise GenomedlError(f"{path}: not a readable FASTA file ({' '.join(str(exc).split())[:120]})") from None
    return _sequences(names, raws, origins or [str(path)], pad)


def read_csv(path: Path, pad: int) -> Regions:
    """A CSV with a ``sequence`` column (and optionally ``id``): one region per row."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise GenomedlError(f"{path}: not a readable CSV file ({' '.join(str(exc).split())[:120]})") from None
    if "sequence" not in table.columns:
        raise GenomedlError(
            f"{path}: no 'sequence' column (columns: {', '.join(table.columns)}); add a header "
            "line with 'sequence' (and optionally 'id')"
        )
    ids = table["id"].tolist() if "id" in table.columns else [f"row{i}" for i in range(1, len(table) + 1)]
    origins = [f"{path}: line {i + 2} ({name})" for i, name in enumerate(ids)]
    return _sequences(
        ids, table["sequence"].str.strip().str.encode("ascii", "replace").tolist(), origins or [str(path)], pad
    )


def open_reference(path: Path) -> pysam.FastaFile:
    """An indexed reference FASTA (plain + ``.fai``, or bgzip + ``.fai`` + ``.gzi``)."""
    path = Path(path)
    if not path.exists():
        raise GenomedlError(f"{path}: reference FASTA not found; fix the path")
    require_bgzip(path, "the FASTA")
    if not Path(f"{path}.fai").exists():
        raise GenomedlError(
            f"{path}: no .fai index beside the reference; index it with `samtools faidx {path}` "
            "(a gzip file must be bgzip-compressed first)"
        )
    check_fai(path)
    try:
        with quiet_htslib():
            return pysam.FastaFile(str(path))
    except (OSError, ValueError) as exc:
        raise GenomedlError(
            f"{path}: cannot read the reference ({' '.join(str(exc).split())[:120]}); "
            "is it bgzip-compressed with its .gzi index?"
        ) from None


def check_contigs(names: list[str], sizes: dict, path: Path, ref_path: Path, skip: bool = False) -> None:
    """Refuse an input (BED, VCF) whose chromosome names are not in the reference, listing every one; ``skip``:
    the fix also offers predict.unknown_contigs: skip (a VCF refused by the setting stop)."""
    unknown = list(dict.fromkeys(n for n in names if n not in sizes))
    if unknown:
        fix = "rename them to the reference's names, " + (
            "give the reference the input was made on, or set predict.unknown_contigs: skip to score the rest"
            if skip
            else "or give the reference the input was made on"
        )
        raise GenomedlError(
            f"{path}: {len(unknown)} chromosome name(s) not in {ref_path}: {closest(unknown, sizes, n=5)}; {fix}"
        )


def fetch_tokens(reference: pysam.FastaFile, chrom: str, start: int, end: int, origin: str) -> np.ndarray:
    """Tokens of ``chrom:[start, end)``, N where that runs past either contig end."""
    size = reference.get_reference_length(chrom)
    out = np.full(end - start, N_TOKEN, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, size)
    if hi > lo:
        out[lo - start : hi - start] = bytes_to_tokens(reference.fetch(chrom, lo, hi).encode(), origin)
    return out


def parse_bed(path: Path, reference: pysam.FastaFile, ref_path: Path) -> pd.DataFrame:
    """Regions of a BED file (columns chrom, start, end, optional name), checked against the reference.

    Header lines (``#``, ``track``, ``browser``) and blank lines are skipped; any other line that is
    not a valid region on the reference stops with its file and line number.
    """
    sizes = dict(zip(reference.references, reference.lengths))
    rows = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith(("#", "track", "browser")):
                continue
            fields = text.split("\t") if "\t" in text else text.split()
            where = f"{path}: line {number}"
            if len(fields) < 3 or not fields[1].isdigit() or not fields[2].isdigit():
                raise GenomedlError(
                    f"{where}: expected 'chrom<TAB>start<TAB>end' with whole numbers, got {text[:60]!r}"
                )
            chrom, start, end = fields[0], int(fields[1]), int(fields[2])
            if chrom not in sizes:
                rows.append((None, chrom, start, end))
                continue
            if start >= end:
                raise GenomedlError(f"{where}: start {start} is not below end {end}; BED is 0-based, half-open")
            if end > sizes[chrom]:
                raise GenomedlError(f"{where}: end {end} is beyond the end of {chrom} ({sizes[chrom]} bp)")
            name = fields[3] if len(fields) > 3 and fields[3] not in ("", ".") else f"{chrom}:{start}-{end}"
            rows.append((name, chrom, start, end))
    if not rows:
        raise GenomedlError(f"{path}: no regions; add lines 'chrom<TAB>start<TAB>end'")
    check_contigs([chrom for _, chrom, _, _ in rows], sizes, path, ref_path)
    return pd.DataFrame(rows, columns=["name", "chrom", "start", "end"])


@contextmanager
def bed_regions(path: Path, reference_path: Path) -> Iterator[Regions]:
    """BED regions on the open reference, their bases fetched from it while the block runs."""
    with open_reference(reference_path) as reference:
        bed = parse_bed(path, reference, reference_path)
        chrom = bed["chrom"].tolist()
        limit = np.array([reference.get_reference_length(c) for c in chrom], dtype=np.int64)
        origin = f"{reference_path}: "
        fetch = lambda i, lo, hi: fetch_tokens(reference, chrom[i], lo, hi, origin + chrom[i])  # noqa: E731
        begin, end = bed["start"].to_numpy(np.int64), bed["end"].to_numpy(np.int64)
        yield Regions(bed["name"].tolist(), chrom, begin, end, limit, fetch)
