"""GenBank records and Gene summaries from NCBI E-utilities, with a local cache and an offline mode.

See docs/ncbi.md for the settings (email, API key, rate limits, offline mode, cache layout).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from genomedl.errors import GenomedlError
from genomedl.sources.ncbi.cache import Cache
from genomedl.sources.ncbi.client import EutilsClient
from genomedl.sources.ncbi.queries import GENES_HINT, Fetcher, Found, Region
from genomedl.sources.ncbi.ratelimit import default_rps

__all__ = ["FetchedRecord", "fetch_ncbi_records"]

SPEC_KEYS = ("accessions", "genes", "query")
MAX_QUERY_RECORDS = 10000
_ACCESSION = re.compile(r"^[A-Z]{1,6}_?[A-Z]*\d+(\.\d+)?$")
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@/-]*$")


@dataclass
class FetchedRecord:
    accession_version: str  # e.g. "NG_012337.1" (a gene's region: "NC_000011.10:112086873-112095794")
    text: str  # one complete GenBank flat-file record, ending with "//\n"
    gene_id: str  # NCBI Gene id or "" if unknown
    symbol: str  # gene symbol or ""
    taxon_id: str  # "" if unknown
    organism: str
    lineage: str  # the record's taxonomy, "; "-joined ("" for records cached before it was kept)
    query: str  # "accession:NG_012337", "gene:SDHD[9606]", "gene:6392", "query:<term>"
    retrieved_at: str  # UTC ISO 8601, when first downloaded (kept from the cache on a rerun)


def fetch_ncbi_records(
    spec: dict,
    cache_dir: Path,
    *,
    email: str,
    tool: str = "genomedl",
    api_key: str | None = None,
    base_url: str,
    offline: bool,
    max_rps: float | None = None,
    timeout_s: float = 30.0,
    max_retries: int = 5,
    log=None,
    backoff_base_s: float = 1.0,
) -> tuple[list[FetchedRecord], list[dict]]:
    """spec keys (any mix): accessions: [str], genes: [{symbol: str, taxon: int} | {gene_id: int}],
    query: {term: str, max_records: int}. Returns (records, gene_records) where gene_records are the
    Gene summaries (dicts with gene_id, symbol, description, chromosome, location, exon_count, taxon_id, organism).

    Records come in the order asked (accessions, then genes, then the query), each accession.version
    once (the first way it was asked for; a gene that links to it fills in gene_id and symbol). The API key
    defaults to $NCBI_API_KEY; ``max_rps`` defaults to 3 without a key, 10 with one.
    ``log`` is a callable taking one line, or a logging.Logger. ``offline=True`` reads only the
    cache and raises one GenomedlError naming everything it lacks.
    """
    accessions, genes, query = _checked_spec(spec)
    api_key = api_key if api_key is not None else (os.environ.get("NCBI_API_KEY") or None)
    log = _log_function(log)
    cache = Cache(Path(cache_dir))
    client = None
    if not offline:
        if not email:
            raise GenomedlError(
                "ncbi.email is empty: NCBI asks every E-utilities client for a contact "
                "address; set ncbi.email in the config (or ncbi.offline: true to use the cache)"
            )
        client = EutilsClient(
            base_url,
            email=email,
            tool=tool,
            api_key=api_key,
            max_rps=max_rps or default_rps(api_key),
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            lock_path=cache.lock_path,
            log=log,
        )
    fetcher = Fetcher(cache, client, log)
    records: list[FetchedRecord] = []
    found = fetcher.accessions(accessions)
    records += [_record(found[acc], f"accession:{acc}") for acc in accessions if acc in found]

    hits = fetcher.genes(genes)
    linked = fetcher.accessions([key for hit in hits for key in hit.keys if not Region.from_key(key)], GENES_HINT)
    gene_records = []
    for hit in hits:
        if hit.gene not in gene_records:
            gene_records.append(hit.gene)
        for key in hit.keys:
            region = Region.from_key(key)
            entry = fetcher.region(region, hit.query) if region else linked.get(key)
            if entry:
                records.append(_record(entry, hit.query, hit.gene))

    if query:
        records += [
            _record(entry, f"query:{query['term']}") for entry in fetcher.query(query["term"], query["max_records"])
        ]
    if fetcher.missing:
        raise GenomedlError(
            f"offline mode: the NCBI cache {cache_dir} lacks {len(fetcher.missing)} item(s): "
            f"{', '.join(fetcher.missing)}; run once with ncbi.offline: false to download them"
        )
    unique: dict[str, FetchedRecord] = {}
    for record in records:
        kept = unique.setdefault(record.accession_version, record)
        if not kept.gene_id and record.gene_id:  # asked for again through its gene: keep that link
            kept.gene_id, kept.symbol = record.gene_id, record.symbol
    return list(unique.values()), gene_records


def _record(entry: Found, query: str, gene: dict | None = None) -> FetchedRecord:
    text, meta = entry
    return FetchedRecord(
        accession_version=meta["key"],
        text=text,
        gene_id=gene["gene_id"] if gene else meta.get("gene_id", ""),
        symbol=gene["symbol"] if gene else meta.get("symbol", ""),
        taxon_id=meta.get("taxon_id") or (gene or {}).get("taxon_id", ""),
        organism=meta.get("organism") or (gene or {}).get("organism", ""),
        lineage=meta.get("lineage", ""),
        query=query,
        retrieved_at=meta["retrieved_at"],
    )


def _checked_spec(spec: dict) -> tuple[list[str], list[dict], dict | None]:
    """Normalised (accessions, genes, query); GenomedlError names the first bad entry."""
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise GenomedlError(f"unknown NCBI source key(s) {', '.join(unknown)}; use {', '.join(SPEC_KEYS)}")
    accessions = []
    for raw in spec.get("accessions") or []:
        acc = str(raw).strip().upper()
        if not _ACCESSION.match(acc):
            raise GenomedlError(
                f"{raw!r} is not an NCBI accession (like NG_012337 or NG_012337.1); "
                "fix config key datasets.<name>.source.accessions"
            )
        if acc not in accessions:
            accessions.append(acc)
    genes = []
    for entry in spec.get("genes") or []:
        if isinstance(entry, dict) and set(entry) == {"gene_id"} and str(entry["gene_id"]).isdigit():
            genes.append({"gene_id": int(entry["gene_id"])})
        elif (
            isinstance(entry, dict)
            and set(entry) == {"symbol", "taxon"}
            and _SYMBOL.match(str(entry["symbol"]))
            and str(entry["taxon"]).isdigit()
        ):
            genes.append({"symbol": str(entry["symbol"]), "taxon": int(entry["taxon"])})
        else:
            raise GenomedlError(
                f"gene entry {entry!r} needs either symbol and taxon (e.g. "
                "{symbol: SDHD, taxon: 9606}) or gene_id; fix datasets.<name>.source.genes"
            )
    query = spec.get("query")
    if query:
        term, count = str(query.get("term", "")).strip(), query.get("max_records", 20)
        if not term or not isinstance(count, int) or not 1 <= count <= MAX_QUERY_RECORDS:
            raise GenomedlError(
                f"query {query!r} needs a term and max_records between 1 and "
                f"{MAX_QUERY_RECORDS}; fix datasets.<name>.source.query"
            )
        query = {"term": term, "max_records": count}
    return accessions, genes, query or None


def _log_function(log):
    """A callable taking one line, from None (this module's logger), a Logger, or a callable."""
    if log is None:
        return logging.getLogger(__name__).info
    if isinstance(log, logging.Logger):
        return log.info
    return log
