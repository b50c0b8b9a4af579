"""Cheap, decisive checks of input files: plain gzip where bgzip is needed, a stale ``.fai``, names that
do not match (with the closest ones), and htslib kept quiet where genomedl reports the problem itself."""

from __future__ import annotations

import contextlib
import difflib
from pathlib import Path

import pysam

from genomedl.errors import GenomedlError


@contextlib.contextmanager
def quiet_htslib():
    """Silence htslib's own ``[E::]`` / ``[W::]`` lines inside the block (genomedl names the problem)."""
    before = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(before)


def plain_gzip(path: Path) -> bool:
    """True for a gzip file that is not BGZF (no ``BC`` extra field in its first block)."""
    with open(path, "rb") as handle:
        head = handle.read(18)
    return head[:2] == b"\x1f\x8b" and not (len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC")


def require_bgzip(path: Path, what: str) -> None:
    """Refuse a plain-gzip ``path`` where htslib needs random access (an indexed FASTA, a VCF); an index beside
    it is named as useless (htslib cannot seek in plain gzip) and made again by the fix."""
    if Path(path).is_file() and plain_gzip(path):
        plain, fai = str(path).removesuffix(".gz"), Path(f"{path}.fai")
        useless = f", so its index {fai.name} is of no use (htslib cannot seek in plain gzip)" if fai.exists() else ""
        again = " and index it again" if fai.exists() else ""
        raise GenomedlError(
            f"{path}: {what} is compressed with plain gzip, not bgzip{useless}; recompress it{again}: "
            f"gunzip {path} && bgzip {plain}" + (" && samtools faidx " + str(path) if what == "the FASTA" else "")
        )


def fai_end(lines: list[str]) -> int:
    """Byte offset just after the last sequence of a plain FASTA, from its ``.fai`` rows."""
    name, length, offset, bases, width = lines[-1].split("\t")[:5]
    full, rest = divmod(int(length), int(bases))
    return int(offset) + full * int(width) + (rest + int(width) - int(bases) if rest else 0)


def check_fai(fasta: Path) -> None:
    """Refuse a stale ``.fai``, which htslib would follow silently: for a plain FASTA, one whose last sequence
    does not end where the file ends; for a bgzip FASTA (whose size says nothing), one older than the FASTA
    (by more than 2 s, so that copying the pair does not count)."""
    fasta, fai = Path(fasta), Path(f"{fasta}.fai")
    if not fai.exists():
        return
    fix = f"delete it and index again with samtools faidx {fasta}"
    with open(fasta, "rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    if packed and fai.stat().st_mtime < fasta.stat().st_mtime - 2:
        raise GenomedlError(f"{fai}: the index is older than {fasta.name} (stale); {fix}")
    lines = [line for line in fai.read_text().splitlines() if line.strip()]
    if lines and not packed:
        end, size = fai_end(lines), fasta.stat().st_size
        if not end - 2 <= size <= end + 2:
            raise GenomedlError(
                f"{fai}: the index does not match {fasta.name} (it ends at byte {end}, the file has {size}); {fix}"
            )


def closest(names, candidates, n: int = 3) -> str:
    """``a (closest: b), ...`` for up to ``n`` of ``names``: each with the most similar of ``candidates``."""
    candidates = list(candidates)
    parts = []
    for name in list(names)[:n]:
        match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.0)
        parts.append(f"{name} (closest: {match[0]})" if match else name)
    more = len(list(names)) - n
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")
