"""Bgzipped, faidx-indexed FASTA files (``.fa.gz`` + ``.fai`` + ``.gzi``), written atomically."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pysam
from Bio import bgzf

BGZF_BLOCK = 65536  # bytes of uncompressed data per BGZF block


def write_windows_fasta(ids: list[str], windows: np.ndarray, out_fasta: Path) -> None:
    """Windows ``[N, L]`` (ASCII bytes) as one-line FASTA records, bgzipped and indexed (see write_bgzf_fasta)."""
    write_bgzf_fasta(
        [b"".join(b">" + name.encode() + b"\n" + row.tobytes() + b"\n" for name, row in zip(ids, windows))], out_fasta
    )


def write_bgzf_fasta(blocks: Iterable[bytes], out_fasta: Path) -> None:
    """Write FASTA text given as byte blocks as bgzipped FASTA + .fai + .gzi, atomically: the FASTA is renamed
    into place last.

    BGZF level 1 (Biopython's writer): see benchmarks/bench_extract.py for its speed against pysam's.
    """
    out_fasta = Path(out_fasta)
    out_fasta.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_fasta.parent, prefix=f".{out_fasta.name}.") as tmp:
        packed = Path(tmp) / out_fasta.name
        with bgzf.BgzfWriter(str(packed), "wb", compresslevel=1) as handle:
            for block in blocks:
                for at in range(0, len(block), BGZF_BLOCK):  # the writer copies its buffer per call: feed blocks
                    handle.write(block[at : at + BGZF_BLOCK])
        pysam.faidx(str(packed))
        for suffix in (".fai", ".gzi"):
            shutil.move(str(packed) + suffix, str(out_fasta) + suffix)
        shutil.move(str(packed), str(out_fasta))


def write_indexed_fasta(blocks: Iterable[bytes], out_fasta: Path) -> None:
    """FASTA text given as byte blocks, indexed: bgzipped + .fai + .gzi when ``out_fasta`` ends in .gz (see
    write_bgzf_fasta), else plain + .fai; atomically."""
    out_fasta = Path(out_fasta)
    if out_fasta.name.endswith(".gz"):
        write_bgzf_fasta(blocks, out_fasta)
        return
    out_fasta.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_fasta.parent, prefix=f".{out_fasta.name}.") as tmp:
        plain = Path(tmp) / out_fasta.name
        with open(plain, "wb") as handle:
            handle.writelines(blocks)
        pysam.faidx(str(plain))
        shutil.move(str(plain) + ".fai", str(out_fasta) + ".fai")
        shutil.move(str(plain), str(out_fasta))
