"""Fetch stage: gather GenBank records from local files and NCBI into one file plus a manifest.

Outputs: ``records.gb.gz`` (all records, gzip with a fixed timestamp so reruns are byte-identical),
``manifest.tsv`` (one row per record, see :mod:`.manifest`) and ``genes.json`` (NCBI Gene summaries).
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.console import log as console_log
from genomedl.errors import GenomedlError
from genomedl.sources.local import read_local_genbank
from genomedl.sources.manifest import MANIFEST_COLUMNS, manifest_row
from genomedl.tables import write_json, write_tsv

NCBI_KEYS = ("accessions", "genes", "query")


def _ncbi_records(source: dict, ncbi: dict, log):
    from genomedl.sources.ncbi.fetch import fetch_ncbi_records

    spec = {key: source[key] for key in NCBI_KEYS if source.get(key)}
    records, genes = fetch_ncbi_records(
        spec,
        Path(ncbi["cache_dir"]),
        email=ncbi["email"],
        api_key=ncbi["api_key"],
        base_url=ncbi["base_url"],
        offline=ncbi["offline"],
        max_rps=ncbi["max_rps"],
        log=log,
    )
    texts, rows = [], []
    for rec in records:
        texts.append(rec.text)
        rows.append(
            manifest_row(
                accession_version=rec.accession_version,
                text=rec.text,
                source="ncbi",
                query=rec.query,
                retrieved_at=rec.retrieved_at,
                gene_id=rec.gene_id,
                symbol=rec.symbol,
                taxon_id=rec.taxon_id,
                organism=rec.organism,
                lineage=rec.lineage,
            )
        )
    return texts, rows, genes


def _local_files(source: dict, out_records: Path, out_manifest: Path, out_genes: Path, log) -> int:
    """Reference FASTA + annotation or labelled files, read by extract itself: one manifest row per file
    (sha256 and size of the file's bytes); ``records.gb.gz`` stays empty."""
    from genomedl.provenance import sha256_file

    reference = source.get("reference") or {}
    paths = [Path(p) for p in [reference.get("fasta"), reference.get("annotation")] + source.get("labelled", []) if p]
    rows = []
    for path in paths:
        if not path.exists():
            raise GenomedlError(f"{path}: file not found (listed under the dataset's source); fix the path")
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(microsecond=0)
        rows.append(
            {
                "accession_version": path.name,
                "gene_id": "",
                "symbol": "",
                "taxon_id": "",
                "organism": "",
                "lineage": "",
                "source": "local",
                "query": str(path),
                "retrieved_at": mtime.isoformat().replace("+00:00", "Z"),
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
            }
        )
    with atomic_path(out_records) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename=""):
            pass
    write_tsv(pd.DataFrame(rows, columns=MANIFEST_COLUMNS), out_manifest)
    write_json([], out_genes)
    log(f"fetch: {len(rows)} local files listed in {out_manifest}; extract reads them directly")
    return 0


def run_fetch(records: Path, manifest: Path, genes: Path, settings: dict, log=console_log) -> int:
    """Gather records named by ``settings["source"]`` (keys ``local`` and/or ``accessions``/``genes``/``query``)
    into ``records`` (GenBank, gzip), ``manifest`` (TSV) and ``genes`` (JSON); ``settings["ncbi"]`` holds the
    NCBI client settings (schema section ``fetch``).

    Returns the number of records written. Duplicate accession.versions are kept once.
    """
    settings = stage_settings("fetch", settings)
    source, out_records, out_manifest, out_genes = settings["source"], records, manifest, genes
    if source.get("reference") or source.get("labelled"):
        return _local_files(source, out_records, out_manifest, out_genes, log)
    texts, rows, genes = [], [], []
    for rec in read_local_genbank(source.get("local", []), log=log):
        texts.append(rec.text)
        rows.append(rec.row)
    if any(source.get(key) for key in NCBI_KEYS):
        more_texts, more_rows, genes = _ncbi_records(source, settings["ncbi"], log)
        texts += more_texts
        rows += more_rows
    if not texts:
        raise GenomedlError(
            "no records: the dataset's source lists no file, accession, gene or query; "
            "add one under datasets.<name>.source"
        )
    seen, keep = set(), []
    for index, row in enumerate(rows):
        if row["accession_version"] in seen:
            log(f"note: {row['accession_version']} appears more than once; kept the first")
            continue
        seen.add(row["accession_version"])
        keep.append(index)
    with atomic_path(out_records) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            for index in keep:
                gz.write(texts[index].encode())
    write_tsv(pd.DataFrame([rows[i] for i in keep], columns=MANIFEST_COLUMNS), out_manifest)
    write_json(genes, out_genes)
    log(f"fetch: {len(keep)} records written to {out_records}")
    return len(keep)
