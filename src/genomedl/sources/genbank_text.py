"""Split GenBank flat files into per-record text and parse each record with Biopython."""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter

import numpy as np
from Bio import BiopythonParserWarning, SeqIO
from Bio.SeqRecord import SeqRecord

from genomedl.errors import GenomedlError
from genomedl.sequence import TOKEN_OF_BYTE, first_invalid


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
    records, current, opened = [], [], False
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.startswith("LOCUS ") and opened:
            raise GenomedlError(
                f"{origin}: record {len(records) + 1} ({record_name(current)}) is truncated: line {number} begins "
                f"another record ({' '.join(line.split()[:2])}) before its '//' end marker; download it again"
            )
        opened = opened or line.startswith("LOCUS ")
        current.append(line)
        if line.rstrip() == "//":
            records.append("".join(current).rstrip("\n") + "\n")
            current, opened = [], False
    if any(line.strip() for line in current):
        raise GenomedlError(
            f"{origin}: record {len(records) + 1} has no '//' end marker (the file is truncated); download it again"
        )
    return records


def record_name(lines: list[str]) -> str:
    """The accession.version of a record's VERSION line, else the name on its LOCUS line."""
    for key in ("VERSION ", "LOCUS "):
        found = next((line.split() for line in lines if line.startswith(key)), None)
        if found and len(found) > 1:
            return found[1]
    return "no name"


def first_lines(records: list[str]) -> list[int]:
    """The line of the file on which each record of :func:`split_records` begins (1-based)."""
    sizes = [text.count("\n") for text in records]
    return [1 + sum(sizes[:i]) for i in range(len(sizes))]


def parse_record(text: str, origin: str, number: int, log=None, line: int = 1) -> SeqRecord:
    """Parse one record's text, which begins on ``line`` of ``origin``; errors become one GenomedlError line, and
    the parser's warnings go to ``log`` once the record is accepted (none precede the line that refuses it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BiopythonParserWarning)
        try:
            records = list(SeqIO.parse(io.StringIO(text), "genbank"))
        except Exception as exc:  # Biopython raises ValueError and friends on malformed input
            problem = " ".join(str(exc).split())[:200]
            raise GenomedlError(
                f"{origin}: record {number} is not valid GenBank ({problem}); fix or remove this record"
            ) from None
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
    check_bases(record, text, f"{origin}: record {number} ({record.id})", line)
    repeats = Counter(" ".join(str(warning.message).split()) for warning in caught)
    for message, times in repeats.items():
        if log is not None:
            log(f"warning: {origin}: record {number}: {message}" + (f" ({times} times)" if times > 1 else ""))
    return record


def check_bases(record: SeqRecord, text: str, where: str, line: int) -> None:
    """Refuse a record whose sequence holds a character that is no IUPAC nucleotide code, naming the base and
    the line of the file (``text`` is the record's, beginning on ``line``)."""
    position = first_invalid(TOKEN_OF_BYTE[np.frombuffer(bytes(record.seq), dtype=np.uint8)])
    if position < 0:
        return
    lines = text.split("\n")
    seen = next(i for i, row in enumerate(lines) if row.startswith("ORIGIN"))
    bases = [re.sub(r"[\d\s]", "", row) for row in lines[seen + 1 :]]
    ends = np.cumsum([len(b) for b in bases])
    row = int(np.searchsorted(ends, position, side="right"))
    character = bases[row][position - (int(ends[row - 1]) if row else 0)]
    raise GenomedlError(
        f"{where}: invalid character {character!r} at base {position + 1} (line {line + seen + 1 + row}); "
        "sequences may contain only IUPAC nucleotide codes: correct the record or download it again"
    )
