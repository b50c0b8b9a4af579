"""A dataset's fetched GenBank records as a reference to predict on: bgzipped FASTA + .fai + .gzi."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pysam

from ..errors import GenomedlError


def write_records_fasta(records: Path, out_fasta: Path, line_width: int = 80, log=print) -> int:
    """Write every record of ``records`` (GenBank, plain or gzip) as ``>accession.version`` + its sequence
    in ``line_width``-bp lines, bgzip it and index it with pysam (the FASTA is moved into place last).
    Returns the number of records."""
    from ..extract import genbank_records

    out_fasta = Path(out_fasta)
    out_fasta.parent.mkdir(parents=True, exist_ok=True)
    seen = set()
    with tempfile.TemporaryDirectory(dir=out_fasta.parent, prefix=".reference.") as tmp:
        plain = Path(tmp) / "records.fa"
        with open(plain, "wb") as handle:
            for seq_id, sequence, _ in genbank_records(records, log):
                if seq_id in seen:
                    raise GenomedlError(f"{records}: record {seq_id} appears twice; a reference needs unique names")
                seen.add(seq_id)
                lines = [sequence[i:i + line_width] for i in range(0, len(sequence), line_width)]
                handle.write(b">" + seq_id.encode() + b"\n" + b"\n".join(lines).upper() + b"\n")
        packed = Path(tmp) / out_fasta.name
        pysam.tabix_compress(str(plain), str(packed), force=True)
        pysam.faidx(str(packed))
        for suffix in (".fai", ".gzi"):
            shutil.move(f"{packed}{suffix}", f"{out_fasta}{suffix}")
        shutil.move(str(packed), str(out_fasta))
    log(f"reference-fasta: {len(seen)} records -> {out_fasta}")
    return len(seen)
