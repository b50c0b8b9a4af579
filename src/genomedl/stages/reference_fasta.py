"""A dataset's fetched GenBank records as a reference to predict on: bgzipped FASTA + .fai + .gzi."""

from __future__ import annotations

from pathlib import Path

from genomedl.console import log
from genomedl.errors import GenomedlError
from genomedl.fasta_io import write_bgzf_fasta
from genomedl.windows.annotation import genbank_records


def write_records_fasta(records: Path, out: Path, line_width: int = 80, log=log) -> int:
    """Write every record of ``records`` (GenBank, plain or gzip) to ``out`` as ``>accession.version`` + its
    sequence in ``line_width``-bp lines, bgzipped and indexed. Returns the number of records."""
    out_fasta = out
    seen: set[str] = set()

    def blocks():
        for seq_id, sequence, _ in genbank_records(records, log):
            if seq_id in seen:
                raise GenomedlError(f"{records}: record {seq_id} appears twice; a reference needs unique names")
            seen.add(seq_id)
            lines = [sequence[i : i + line_width] for i in range(0, len(sequence), line_width)]
            yield b">" + seq_id.encode() + b"\n" + b"\n".join(lines).upper() + b"\n"

    write_bgzf_fasta(blocks(), out_fasta)
    log(f"reference-fasta: {len(seen)} records -> {out_fasta}")
    return len(seen)
