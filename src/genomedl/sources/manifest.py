"""The provenance manifest: one row per record fetched or read."""

from __future__ import annotations

import hashlib

MANIFEST_COLUMNS = [
    "accession_version",
    "gene_id",
    "symbol",
    "taxon_id",
    "organism",
    "lineage",
    "source",
    "query",
    "retrieved_at",
    "sha256",
    "size",
]


def manifest_row(
    *,
    accession_version: str,
    text: str,
    source: str,
    query: str,
    retrieved_at: str,
    gene_id: str = "",
    symbol: str = "",
    taxon_id: str = "",
    organism: str = "",
    lineage: str = "",
) -> dict:
    """One manifest row; ``sha256`` and ``size`` (bytes) are of the record's GenBank text (UTF-8)."""
    data = text.encode()
    return {
        "accession_version": accession_version,
        "gene_id": gene_id,
        "symbol": symbol,
        "taxon_id": taxon_id,
        "organism": organism,
        "lineage": lineage,  # the record's taxonomy ("; "-joined): the JASPAR taxon of interpret follows it
        "source": source,
        "query": query,
        "retrieved_at": retrieved_at,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
