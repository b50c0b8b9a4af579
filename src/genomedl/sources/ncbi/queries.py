"""Resolve a dataset's NCBI source (accessions, genes, query) to validated records, cache first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from genomedl.errors import GenomedlError
from genomedl.provenance import utc_now
from genomedl.sources.ncbi.cache import Cache, sha256
from genomedl.sources.ncbi.client import EutilsClient
from genomedl.sources.ncbi.records import CheckedRecord, InvalidRecord, check_record, split_answer

#: Most ids in one efetch request.
EFETCH_BATCH = 200
#: Gene → nuccore links tried in this order; a genomic region of the gene comes between them.
LINK_REFSEQGENE = "gene_nuccore_refseqgene"
LINK_REFSEQRNA = "gene_nuccore_refseqrna"
ACCESSIONS_HINT = "check the accession in config key datasets.<name>.source.accessions"
_REGION = re.compile(r"^(?P<acc>[^:]+):(?P<minus>c?)(?P<a>\d+)-(?P<b>\d+)$")
GENES_HINT = "NCBI Gene links it from config key datasets.<name>.source.genes; run again later"

Found = tuple[str, dict]  # (record text, sidecar) as returned by Cache.load_record


@dataclass(frozen=True)
class Region:
    """A stretch of a sequence, 1-based inclusive; its key is NCBI's ``ACC:START-STOP``/``ACC:cSTOP-START``."""

    accession: str
    start: int
    stop: int
    minus: bool

    @property
    def key(self) -> str:
        if self.minus:
            return f"{self.accession}:c{self.stop}-{self.start}"
        return f"{self.accession}:{self.start}-{self.stop}"

    @classmethod
    def from_key(cls, key: str) -> Region | None:
        match = _REGION.match(key)
        if not match:
            return None
        a, b = int(match["a"]), int(match["b"])
        return cls(match["acc"], min(a, b), max(a, b), bool(match["minus"]))


@dataclass
class GeneHit:
    """One requested gene: its summary, how it was asked for, and its record keys."""

    query: str
    gene: dict
    keys: list[str]


class Fetcher:
    """Fetch through ``client`` and ``cache``; with ``client=None`` (offline) only the cache is read
    and what it lacks is listed in ``missing``."""

    def __init__(self, cache: Cache, client: EutilsClient | None, log, batch_size: int = EFETCH_BATCH):
        self.cache = cache
        self.client = client
        self.log = log
        self.batch_size = batch_size
        self.missing: list[str] = []

    # ---- records by accession -------------------------------------------------------------

    def accessions(self, accessions: list[str], hint: str = ACCESSIONS_HINT) -> dict[str, Found]:
        """Records for accessions with or without version, keyed as asked; unversioned ones keep the
        version pinned in the cache on first download."""
        found, wanted = {}, []
        for acc in accessions:
            key = (
                acc if "." in acc else (self.cache.load_json("nuccore/unversioned", acc) or {}).get("accession_version")
            )
            cached = self.cache.load_record(key) if key else None
            if cached:
                found[acc] = cached
            elif self.client is None:
                self.missing.append(acc)
            elif acc not in wanted:
                wanted.append(acc)
        if wanted:
            now = utc_now()
            for acc, record in self._efetch_ids(wanted, hint).items():
                meta = self.cache.save_record(record.accession_version, record, now)
                if "." not in acc:
                    self.cache.save_json("nuccore/unversioned", acc, {"accession_version": record.accession_version})
                found[acc] = (record.text, meta)
        return found

    def _efetch_ids(self, ids: list[str], hint: str) -> dict[str, CheckedRecord]:
        """efetch in batches; ids missing from an answer are asked again, then one at a time."""
        got, problems, pending = {}, {}, list(ids)
        for size in (self.batch_size, self.batch_size, 1):
            for start in range(0, len(pending), size):
                batch = pending[start : start + size]
                text = self.client.efetch_text(
                    {"db": "nuccore", "id": ",".join(batch), "rettype": "gbwithparts"}, _describe(batch)
                )
                for record in self._checked(text, batch, problems):
                    for acc in batch:
                        if acc in (record.accession_version, record.accession):
                            got[acc] = record
            pending = [acc for acc in pending if acc not in got]
            if not pending:
                return got
            self.log(f"ncbi: efetch answers lacked {_describe(pending)}; asking again")
        raise GenomedlError(
            "; ".join(
                f"accession {acc}: NCBI sent an unusable record ({problems[acc]}) three times; run again later"
                if acc in problems
                else f"accession {acc} not found at NCBI (efetch returned no record); {hint}"
                for acc in pending
            )
        )

    def _checked(self, text: str, asked: list[str], problems: dict) -> list[CheckedRecord]:
        """The valid records of an efetch answer; why the others were dropped goes to ``problems``."""
        chunks, rest = split_answer(text)
        if rest.strip():
            chunks.append(rest)
        good = []
        for chunk in chunks:
            try:
                good.append(check_record(chunk))
            except InvalidRecord as exc:
                named = [acc for acc in asked if re.search(rf"^(ACCESSION|VERSION)\s+{re.escape(acc)}\b", chunk, re.M)]
                for acc in named or (asked if len(asked) == 1 else []):
                    problems[acc] = str(exc)
                self.log(f"ncbi: dropped an invalid record from efetch ({exc})")
        return good

    # ---- genomic regions ------------------------------------------------------------------

    def region(self, region: Region, label: str) -> Found | None:
        """The record of one region (efetch with seq_start/seq_stop/strand), cached under its key."""
        cached = self.cache.load_record(region.key)
        if cached or self.client is None:
            if not cached:
                self.missing.append(f"{region.key} ({label})")
            return cached
        problems: dict = {}
        for _ in range(3):
            text = self.client.efetch_text(
                {
                    "db": "nuccore",
                    "id": region.accession,
                    "rettype": "gbwithparts",
                    "seq_start": region.start,
                    "seq_stop": region.stop,
                    "strand": 2 if region.minus else 1,
                },
                f"region {region.key}",
            )
            good = [
                r
                for r in self._checked(text, [region.accession], problems)
                if r.length == region.stop - region.start + 1
            ]
            if len(good) == 1:
                return good[0].text, self.cache.save_record(region.key, good[0], utc_now())
        raise GenomedlError(
            f"region {region.key} of {label}: NCBI sent no usable record "
            f"({problems.get(region.accession, 'empty answer')}); run again later"
        )

    # ---- query ----------------------------------------------------------------------------

    def query(self, term: str, max_records: int) -> list[Found]:
        """Records matching an Entrez nuccore query (esearch with history, then efetch by WebEnv)."""
        name = sha256(f"{term}\n{max_records}")
        index = self.cache.load_json("query", name)
        cached = [self.cache.load_record(key) for key in (index or {}).get("keys", [])]
        if self.client is None:
            if not index or not all(cached):
                self.missing.append(f"query:{term}")
            return [found for found in cached if found]
        what = f"query {term!r}"
        search = self.client.json(
            "esearch", {"db": "nuccore", "term": term, "usehistory": "y", "retmax": max_records}, what
        )["esearchresult"]
        uids, count = list(search.get("idlist", [])), min(int(search.get("count", 0)), max_records)
        if count == 0:
            raise GenomedlError(
                f"query {term!r} matched no nuccore record at NCBI; check config key datasets.<name>.source.query.term"
            )
        if index and index.get("uids") == uids and all(cached):
            return cached
        records, now = [], utc_now()
        for retstart in range(0, count, self.batch_size):
            size = min(self.batch_size, count - retstart)
            for _ in range(3):
                text = self.client.efetch_text(
                    {
                        "db": "nuccore",
                        "WebEnv": search["webenv"],
                        "query_key": search["querykey"],
                        "retstart": retstart,
                        "retmax": size,
                        "rettype": "gbwithparts",
                    },
                    what,
                )
                batch = self._checked(text, [], {})
                if len(batch) == size:
                    break
                self.log(f"ncbi: {what}: got {len(batch)} of {size} records at {retstart + 1}; asking again")
            else:
                raise GenomedlError(
                    f"{what}: efetch returned {len(batch)} of {size} records at positions "
                    f"{retstart + 1}-{retstart + size} three times; run again later"
                )
            records += batch
        found = [(r.text, self.cache.save_record(r.accession_version, r, now)) for r in records]
        self.cache.save_json(
            "query",
            name,
            {"term": term, "max_records": max_records, "uids": uids, "keys": [meta["key"] for _, meta in found]},
        )
        return found

    # ---- genes ----------------------------------------------------------------------------

    def genes(self, specs: list[dict]) -> list[GeneHit]:
        """Gene summaries and linked record keys (RefSeqGene, else the gene's genomic region,
        else RefSeq RNAs) for ``{symbol, taxon}`` or ``{gene_id}`` entries."""
        asked = []  # (label, gene id or None)
        for spec in specs:
            if "gene_id" in spec:
                asked.append((f"gene:{spec['gene_id']}", str(spec["gene_id"])))
            else:
                label = f"gene:{spec['symbol']}[{spec['taxon']}]"
                known = self.cache.load_json("gene/symbol", f"{spec['taxon']}_{spec['symbol']}")
                asked.append((label, known["gene_id"] if known else self._search_gene(spec, label)))
        hits, needed = {}, []
        for label, gene_id in asked:
            entry = self.cache.load_json("gene", gene_id) if gene_id else None
            if entry:
                hits[gene_id] = entry
            elif self.client is None:
                self.missing.append(label)
            elif gene_id not in needed:
                needed.append(gene_id)
        if needed:
            hits.update(self._fetch_genes(needed, dict((gene, line) for line, gene in asked)))
        return [
            GeneHit(label, hits[gene_id]["gene"], hits[gene_id]["keys"]) for label, gene_id in asked if gene_id in hits
        ]

    def _search_gene(self, spec: dict, label: str) -> str | None:
        """Gene id for an official symbol in a taxon (esearch db=gene), remembered in the cache."""
        if self.client is None:
            return None
        symbol, taxon = spec["symbol"], spec["taxon"]
        ids = self.client.json(
            "esearch", {"db": "gene", "term": f"{symbol}[sym] AND {taxon}[taxid]", "retmax": 20}, label
        )["esearchresult"].get("idlist", [])
        if len(ids) > 1:
            summaries = self._gene_summaries(ids, label)
            ids = [i for i in ids if summaries[i].get("name", "").upper() == symbol.upper()] or ids
        if len(ids) != 1:
            problem = "not found" if not ids else f"ambiguous (gene ids {', '.join(ids)})"
            raise GenomedlError(
                f"{label}: gene symbol {symbol} is {problem} at NCBI for taxon {taxon}; "
                "fix datasets.<name>.source.genes (or give gene_id instead)"
            )
        self.cache.save_json("gene/symbol", f"{taxon}_{symbol}", {"gene_id": ids[0]})
        return ids[0]

    def _gene_summaries(self, gene_ids: list[str], what: str) -> dict[str, dict]:
        result = self.client.json("esummary", {"db": "gene", "id": ",".join(gene_ids)}, what)["result"]
        return {gene_id: result.get(gene_id) or {"error": "no summary"} for gene_id in gene_ids}

    def _fetch_genes(self, gene_ids: list[str], labels: dict[str, str]) -> dict[str, dict]:
        summaries = self._gene_summaries(gene_ids, _describe([labels[g] for g in gene_ids]))
        entries = {}
        for gene_id, summary in summaries.items():
            label = labels[gene_id]
            if summary.get("error"):
                raise GenomedlError(
                    f"{label}: gene id {gene_id} not found at NCBI ({summary['error']}); "
                    "fix datasets.<name>.source.genes"
                )
            if summary.get("currentid") and summary["currentid"] != gene_id:
                raise GenomedlError(
                    f"{label}: NCBI replaced gene id {gene_id} by {summary['currentid']}; "
                    "update datasets.<name>.source.genes"
                )
            keys, link = self._links(gene_id, LINK_REFSEQGENE, label), LINK_REFSEQGENE
            region = _gene_region(summary)
            if not keys and region:
                keys, link = [region.key], "region"
            if not keys:
                keys, link = self._links(gene_id, LINK_REFSEQRNA, label), LINK_REFSEQRNA
            if not keys:
                raise GenomedlError(
                    f"{label}: NCBI links no RefSeqGene, genomic region or RefSeq RNA to "
                    f"gene {gene_id}; fetch its records by accession instead"
                )
            entries[gene_id] = {
                "gene": _gene_fields(gene_id, summary),
                "link": link,
                "keys": keys,
                "retrieved_at": utc_now(),
            }
            self.cache.save_json("gene", gene_id, entries[gene_id])
        return entries

    def _links(self, gene_id: str, linkname: str, label: str) -> list[str]:
        """Accession.versions linked to a gene by ``linkname`` (elink, then esummary db=nuccore)."""
        answer = self.client.json(
            "elink", {"dbfrom": "gene", "db": "nuccore", "id": gene_id, "linkname": linkname, "cmd": "neighbor"}, label
        )
        uids = [
            uid
            for linkset in answer.get("linksets", [])
            for db in linkset.get("linksetdbs", [])
            if db.get("linkname") == linkname
            for uid in db.get("links", [])
        ]
        if not uids:
            return []
        result = self.client.json("esummary", {"db": "nuccore", "id": ",".join(uids)}, label)["result"]
        keys = [result.get(uid, {}).get("accessionversion") for uid in uids]
        if not all(keys):
            raise GenomedlError(
                f"{label}: NCBI gave no accession for linked nuccore ids {', '.join(uids)}; run again later"
            )
        return keys


def _gene_fields(gene_id: str, summary: dict) -> dict:
    """The Gene summary fields the pipeline keeps (see fetch_ncbi_records)."""
    placements = summary.get("genomicinfo") or [{}]
    organism = summary.get("organism") or {}
    return {
        "gene_id": gene_id,
        "symbol": summary.get("name", ""),
        "description": summary.get("description", ""),
        "chromosome": summary.get("chromosome", ""),
        "location": summary.get("maplocation", ""),
        "exon_count": placements[0].get("exoncount"),
        "taxon_id": str(organism.get("taxid", "")),
        "organism": organism.get("scientificname", ""),
    }


def _gene_region(summary: dict) -> Region | None:
    """The gene's span on its current chromosome (esummary positions are 0-based; start > stop on minus)."""
    placements = summary.get("genomicinfo") or []
    if not placements or not placements[0].get("chraccver"):
        return None
    first = placements[0]
    start, stop = int(first["chrstart"]), int(first["chrstop"])
    return Region(first["chraccver"], min(start, stop) + 1, max(start, stop) + 1, start > stop)


def _describe(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
