"""Split GenBank flat files into per-record text and parse each record with Biopython."""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter

from Bio import BiopythonParserWarning, SeqIO
from Bio.SeqRecord import SeqRecord

from ..errors import GenomedlError


def split_records(text: str, origin: str) -> list[str]:
    """Cut a flat file into record texts, each ending with ``//\\n``.

    Raises GenomedlError naming ``origin`` when the file is empty, has no LOCUS line (not GenBank) or its
    last record has no ``//``.
    """
    if not text.strip():
        raise GenomedlError(f"{origin}: the file is empty; give a GenBank flat file")
    if not re.search(r"^LOCUS ", text, re.M):
        first = text.lstrip().splitlines()[0][:40]
        raise GenomedlError(
            f"{origin}: not a GenBank flat file (no LOCUS line; it begins {first!r}); give GenBank "
            "records, or list FASTA/CSV files with labels under source.labelled"
        )
    records, current = [], []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if line.rstrip() == "//":
            records.append("".join(current).rstrip("\n") + "\n")
            current = []
    if any(line.strip() for line in current):
        raise GenomedlError(
            f"{origin}: record {len(records) + 1} has no '//' end marker (the file is truncated); download it again"
        )
    return records


def parse_record(text: str, origin: str, number: int, log=None) -> SeqRecord:
    """Parse one record's text; parser warnings go to ``log``, errors become one GenomedlError line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BiopythonParserWarning)
        try:
            records = list(SeqIO.parse(io.StringIO(text), "genbank"))
        except Exception as exc:  # Biopython raises ValueError and friends on malformed input
            problem = " ".join(str(exc).split())[:200]
            raise GenomedlError(
                f"{origin}: record {number} is not valid GenBank ({problem}); fix or remove this record"
            ) from None
    repeats = Counter(" ".join(str(warning.message).split()) for warning in caught)
    for message, times in repeats.items():
        if log is not None:
            log(f"warning: {origin}: record {number}: {message}" + (f" ({times} times)" if times > 1 else ""))
    if len(records) != 1:
        raise GenomedlError(f"{origin}: record {number} could not be read as one GenBank record")
    record = records[0]
    try:
        sequence = record.seq[:1]
        bytes(sequence)
    except Exception:
        raise GenomedlError(
            f"{origin}: record {number} ({record.id}) has no sequence; fetch it with its sequence (rettype=gbwithparts)"
        ) from None
    if record.annotations.get("molecule_type", "").lower() == "protein":
        raise GenomedlError(f"{origin}: record {number} ({record.id}) is a protein record; give nucleotide records")
    declared = re.match(r"LOCUS\s+\S+\s+(\d+)\s+bp", text)
    if declared and int(declared[1]) != len(record.seq):
        raise GenomedlError(
            f"{origin}: record {number} ({record.id}): the LOCUS line says {int(declared[1])} bp but ORIGIN holds "
            f"{len(record.seq)} bp (the record is truncated or edited); download it again"
        )
    return record
