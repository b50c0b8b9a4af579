"""Check GenBank records from efetch before anything is cached: complete, consistent, parseable."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from Bio import BiopythonParserWarning, SeqIO

_LOCUS = re.compile(r"^LOCUS\s+\S+\s+(\d+)\s+bp\b")
_VERSION = re.compile(r"^VERSION\s+(\S+?\.\d+)\b", re.M)
_ACCESSION = re.compile(r"^ACCESSION\s+(\S+)", re.M)


class InvalidRecord(ValueError):
    """A record that must not be cached; the message says what is wrong."""


@dataclass(frozen=True)
class CheckedRecord:
    """A validated record and what the cache sidecar keeps about it."""

    accession: str  # ACCESSION, first word, e.g. "NG_012337"
    accession_version: str  # VERSION, e.g. "NG_012337.1"
    text: str  # the record, ending with "//\n"
    length: int
    organism: str
    taxon_id: str
    gene_id: str  # the GeneID when all gene features share one, else ""
    symbol: str
    lineage: str = ""  # the ORGANISM block's taxonomy, "; "-joined ("Eukaryota; Viridiplantae; ...")


def split_answer(text: str) -> tuple[list[str], str]:
    """Cut an efetch answer into record texts ending with ``//\\n``.

    Returns ``(records, rest)``; ``rest`` is whatever follows the last ``//`` (a record cut short
    when it is not blank).
    """
    records, current = [], []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if line.rstrip() == "//":
            chunk = "".join(current).strip("\n") + "\n"
            records.append(chunk)
            current = []
    return records, "".join(current)


def check_record(text: str) -> CheckedRecord:
    """Validate one record's text; raise InvalidRecord saying what is wrong."""
    if not text.endswith("//\n"):
        raise InvalidRecord("no '//' end marker (truncated)")
    locus = _LOCUS.match(text)
    if not locus:
        raise InvalidRecord("does not start with a LOCUS line giving a length in bp")
    version, accession = _VERSION.search(text), _ACCESSION.search(text)
    if not version or not accession:
        raise InvalidRecord("no ACCESSION or no VERSION line")
    length = int(locus.group(1))
    if "\nORIGIN" not in text:
        raise InvalidRecord("no sequence (ORIGIN section); fetch with rettype=gbwithparts")
    sequence_lines = text.split("\nORIGIN", 1)[1].split("\n")[1:]  # the ORIGIN line itself is skipped
    bases = sum(char.isalpha() for line in sequence_lines for char in line)
    if bases != length:
        raise InvalidRecord(f"sequence has {bases} bases but LOCUS says {length} bp (truncated)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BiopythonParserWarning)
        try:
            record = SeqIO.read(io.StringIO(text), "genbank")
        except Exception as exc:  # Biopython raises ValueError and friends on malformed text
            raise InvalidRecord(f"Biopython cannot parse it ({' '.join(str(exc).split())[:120]})") from None
    taxa, genes = set(), set()
    for feature in record.features:
        xrefs = feature.qualifiers.get("db_xref", [])
        if feature.type == "source":
            taxa.update(x.split(":", 1)[1] for x in xrefs if x.startswith("taxon:"))
        elif feature.type == "gene":
            gene_ids = [x.split(":", 1)[1] for x in xrefs if x.startswith("GeneID:")]
            symbol = (feature.qualifiers.get("gene") or [""])[0]
            genes.update((gene_id, symbol) for gene_id in gene_ids)
    gene_id, symbol = next(iter(genes)) if len(genes) == 1 else ("", "")
    return CheckedRecord(
        accession=accession.group(1),
        accession_version=version.group(1),
        text=text,
        length=length,
        organism=record.annotations.get("organism", ""),
        lineage="; ".join(record.annotations.get("taxonomy", [])),
        taxon_id=next(iter(taxa)) if len(taxa) == 1 else "",
        gene_id=gene_id,
        symbol=symbol,
    )
