"""A loopback stand-in for NCBI E-utilities, for tests.

It speaks the E-utilities URL scheme (esearch, esummary, elink, efetch, epost; GET and POST),
answers from the real GenBank records and recorded JSON answers in the shared data folder,
records every request, and injects faults on demand (see :meth:`FakeEutils.add_fault`).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Genes the fake knows, beside the recorded esummary answers: id -> (symbol, description, chromosome,
# map location, exon count, placement (chraccver, chrstart, chrstop; 0-based, start > stop on minus)).
EXTRA_GENES = {
    "675": ("BRCA2", "BRCA2 DNA repair associated", "13", "13q13.1", 27, ("NC_000013.11", 32315507, 32400268)),
    "5096": (
        "PCCB",
        "propionyl-CoA carboxylase subunit beta",
        "3",
        "3q22.3",
        15,
        ("NC_000003.12", 136250305, 136337895),
    ),
    "5956": ("OPN1LW", "opsin 1, long wave sensitive", "X", "Xq28", 6, ("NC_000023.11", 154144242, 154159032)),
    "1756": ("DMD", "dystrophin", "X", "Xp21.2-p21.1", 79, ("NC_000023.11", 33344608, 31117220)),
}
# gene id -> linkname -> accession.versions
GENE_LINKS = {
    "6392": {"gene_nuccore_refseqgene": ["NG_012337.1"], "gene_nuccore_refseqrna": ["NM_003002.2"]},
    "675": {"gene_nuccore_refseqgene": ["NG_012772.1"]},
    "5096": {"gene_nuccore_refseqgene": ["NG_008939.1"]},
    "5956": {"gene_nuccore_refseqgene": ["NG_009105.1"]},
    "1756": {"gene_nuccore_refseqrna": ["NM_004006.2"]},
}
DEFAULT_QUERIES = {
    "Homo sapiens[orgn] AND refseqgene[filter]": ["NG_008939.1", "NG_009105.1", "NG_012337.1", "NG_012772.1"]
}
_REGION = re.compile(r"^ACCESSION\s+(\S+) REGION: (complement\()?(\d+)\.\.(\d+)", re.M)


@dataclass
class Seen:
    """One request as the server saw it."""

    util: str
    method: str
    params: dict
    time: float
    status: int = 200


@dataclass
class Fault:
    util: str
    kind: str  # see FakeEutils.add_fault
    times: int
    match: str = ""  # only requests whose id/term parameter contains this
    code: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    message: str = "Search Backend failed: temporarily unavailable"
    used: int = 0


@dataclass(repr=False)
class FakeEutils:
    """Tables of records, genes and queries; requests seen; faults still to inject."""

    data_dir: Path
    records: dict = field(default_factory=dict)  # accession.version -> text
    uids: dict = field(default_factory=dict)  # uid -> accession.version
    regions: dict = field(default_factory=dict)  # (accession.version, start, stop, strand) -> text
    genes: dict = field(default_factory=dict)  # gene id -> esummary entry
    links: dict = field(default_factory=lambda: copy.deepcopy(GENE_LINKS))
    queries: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_QUERIES))
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    history: dict = field(default_factory=dict)  # WebEnv -> [accession.version]

    def __post_init__(self):
        self.lock = threading.Lock()
        for path in sorted((self.data_dir / "genbank").glob("*.gb")):
            self.add_record(path.read_text())
        responses = self.data_dir / "ncbi_responses"
        self.recorded = {}
        for path in responses.glob("esummary_nucleotide_*.json"):
            answer = json.loads(path.read_text())
            for uid in answer.get("result", {}).get("uids", []):
                self.recorded[uid] = answer["result"][uid]
        for path in responses.glob("esummary_gene_*.json"):
            result = json.loads(path.read_text())["result"]
            for uid in result["uids"]:
                self.genes[uid] = result[uid]
        template = self.genes["6392"]
        for gene_id, (symbol, description, chrom, location, exons, (chracc, start, stop)) in EXTRA_GENES.items():
            entry = copy.deepcopy(template)
            entry.update(
                uid=gene_id,
                name=symbol,
                description=description,
                chromosome=chrom,
                maplocation=location,
                nomenclaturesymbol=symbol,
                summary="",
                mim=[],
                genomicinfo=[
                    {"chrloc": chrom, "chraccver": chracc, "chrstart": start, "chrstop": stop, "exoncount": exons}
                ],
            )
            self.genes[gene_id] = entry

    # ---- tables ----------------------------------------------------------------------------

    def add_record(self, text: str) -> str:
        """Serve ``text``; a record whose ACCESSION line names a REGION is served for that region."""
        version = re.search(r"^VERSION\s+(\S+)(?:\s+GI:(\d+))?", text, re.M)
        acc_ver, gi = version.group(1), version.group(2)
        region = _REGION.search(text)
        if region:
            strand = 2 if region.group(2) else 1
            self.regions[(acc_ver, int(region.group(3)), int(region.group(4)), strand)] = text
            return acc_ver
        self.records[acc_ver] = text
        self.uids[gi or str(zlib.crc32(acc_ver.encode()))] = acc_ver
        return acc_ver

    def add_clones(self, count: int, template: str = "NM_003002.2") -> list[str]:
        """``count`` copies of a real record renamed NM_9xxxxx.1 (for batching tests)."""
        text = self.records[template]
        old = template.split(".")[0]
        made = []
        for number in range(count):
            new = f"NM_9{number:05d}"
            clone = re.sub(rf"^(LOCUS\s+){old}", rf"\g<1>{new}", text, flags=re.M)
            clone = re.sub(r"^ACCESSION.*$", f"ACCESSION   {new}", clone, flags=re.M)
            clone = re.sub(r"^VERSION.*$", f"VERSION     {new}.1", clone, flags=re.M)
            made.append(self.add_record(clone))
        return made

    def add_fault(self, util: str, kind: str, times: int = 1, **options) -> Fault:
        """Inject ``kind`` into the next ``times`` matching ``util`` requests.

        Kinds: ``status`` (HTTP ``code``, optional ``retry_after``), ``stall`` (sleep ``seconds``
        before answering), ``truncate`` (efetch body cut before the last ``//``), ``cut_sequence``
        (sequence lines removed, ``//`` kept), ``error200`` (an E-utilities error inside HTTP 200),
        ``drop`` (the first record left out of a batch), ``empty`` (an empty efetch answer),
        ``error_text`` (efetch's plain-text "Error: ..." answer). ``message`` sets the error text.
        """
        fault = Fault(util, kind, times, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def seen(self, util: str | None = None) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if util is None or r.util == util]

    # ---- answers ---------------------------------------------------------------------------

    def answer(self, util: str, method: str, params: dict) -> tuple[int, dict, str]:
        """(status, headers, body) for one request."""
        seen = Seen(util, method, params, time.time())
        with self.lock:
            self.requests.append(seen)
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.used < f.times and f.util == util and f.match in params.get("id", "") + params.get("term", "")
                ),
                None,
            )
            if fault:
                fault.used += 1
        status, headers, body = (
            self._fault(fault, util)
            if fault and fault.kind in ("status", "stall", "error200", "empty", "error_text")
            else (200, {}, "")
        )
        if status == 200 and not body:
            handler = getattr(self, f"_{util}", None)
            status, body = handler(params) if handler else (404, "unknown utility")
        if fault and fault.kind in ("truncate", "cut_sequence", "drop") and status == 200:
            body = _damage(body, fault.kind)
        seen.status = status
        return status, headers, body

    def _fault(self, fault: Fault, util: str) -> tuple[int, dict, str]:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.code, headers, json.dumps({"error": "API rate limit exceeded"})
        if fault.kind == "stall":
            time.sleep(fault.seconds)
            return 200, {}, ""
        if fault.kind == "empty":
            return 200, {}, "\n"
        if fault.kind == "error_text":
            return 200, {}, "Error: F a i l e d  t o  u n d e r s t a n d  i d:  NX_999999.1\n"
        if util == "efetch":
            return (
                200,
                {},
                (
                    '<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult>\n'
                    f"\t<ERROR>{fault.message}</ERROR>\n</eFetchResult>\n"
                ),
            )
        if util == "esearch":
            return (
                200,
                {},
                json.dumps(
                    {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {"ERROR": fault.message}}
                ),
            )
        return 200, {}, json.dumps({"header": {"type": util, "version": "0.3"}, "error": fault.message})

    def _esearch(self, params: dict) -> tuple[int, str]:
        term, retmax = params.get("term", ""), int(params.get("retmax", 20))
        if params.get("db") == "gene":
            match = re.match(r"^(\S+)\[sym\] AND (\d+)\[taxid\]$", term)
            ids = [
                gid
                for gid, entry in self.genes.items()
                if match
                and entry["name"].upper() == match.group(1).upper()
                and str(entry["organism"]["taxid"]) == match.group(2)
            ]
            result = {"count": str(len(ids)), "retmax": str(len(ids)), "retstart": "0", "idlist": ids}
        else:
            accs = self.queries.get(term, [])
            uid_of = {acc: uid for uid, acc in self.uids.items()}
            result = {
                "count": str(len(accs)),
                "retmax": str(min(retmax, len(accs))),
                "retstart": "0",
                "idlist": [uid_of[acc] for acc in accs[:retmax]],
            }
            if params.get("usehistory") == "y":
                with self.lock:
                    webenv = f"MCID_fake{len(self.history) + 1}"
                    self.history[webenv] = accs
                result.update(querykey="1", webenv=webenv)
        result.update(translationset=[], querytranslation=term)
        return 200, json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result})

    def _esummary(self, params: dict) -> tuple[int, str]:
        ids = [i for i in params.get("id", "").split(",") if i]
        result = {"uids": ids}
        for uid in ids:
            if params.get("db") == "gene":
                result[uid] = self.genes.get(uid) or {"uid": uid, "error": "cannot get document summary"}
            elif uid in self.recorded:
                result[uid] = self.recorded[uid]
            elif uid in self.uids:
                acc = self.uids[uid]
                result[uid] = {
                    "uid": uid,
                    "caption": acc.split(".")[0],
                    "accessionversion": acc,
                    "slen": int(re.match(r"LOCUS\s+\S+\s+(\d+)", self.records[acc]).group(1)),
                    "organism": "Homo sapiens",
                    "taxid": 9606,
                }
            else:
                result[uid] = {"uid": uid, "error": "cannot get document summary"}
        return 200, json.dumps({"header": {"type": "esummary", "version": "0.3"}, "result": result})

    def _elink(self, params: dict) -> tuple[int, str]:
        gene_id, linkname = params.get("id", ""), params.get("linkname", "")
        uid_of = {acc: uid for uid, acc in self.uids.items()}
        linked = [uid_of[acc] for acc in self.links.get(gene_id, {}).get(linkname, [])]
        linkset = {"dbfrom": params.get("dbfrom", ""), "ids": [gene_id]}
        if linked:
            linkset["linksetdbs"] = [{"dbto": params.get("db", ""), "linkname": linkname, "links": linked}]
        return 200, json.dumps({"header": {"type": "elink", "version": "0.3"}, "linksets": [linkset]})

    def _epost(self, params: dict) -> tuple[int, str]:
        accs = [self._lookup(i) for i in params.get("id", "").split(",") if self._lookup(i)]
        with self.lock:
            webenv = f"MCID_fake{len(self.history) + 1}"
            self.history[webenv] = accs
        return 200, (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<ePostResult>\n\t<QueryKey>1</QueryKey>\n'
            f"\t<WebEnv>{webenv}</WebEnv>\n</ePostResult>\n"
        )

    def _efetch(self, params: dict) -> tuple[int, str]:
        if "WebEnv" in params:
            accs = self.history.get(params["WebEnv"], [])
            start = int(params.get("retstart", 0))
            texts = [self.records[acc] for acc in accs[start : start + int(params.get("retmax", 20))]]
        elif "seq_start" in params:
            key = (params["id"], int(params["seq_start"]), int(params["seq_stop"]), int(params.get("strand", 1)))
            texts = [self.regions[key]] if key in self.regions else []
        else:
            accs = [self._lookup(i) for i in params.get("id", "").split(",")]
            texts = [self.records[acc] for acc in accs if acc]
        return 200, "\n".join(texts)

    def _lookup(self, name: str) -> str | None:
        """Accession.version for an id given as accession.version, accession or uid."""
        if name in self.records:
            return name
        if name in self.uids:
            return self.uids[name]
        versions = sorted(
            (acc for acc in self.records if acc.split(".")[0] == name), key=lambda acc: int(acc.split(".")[1])
        )
        return versions[-1] if versions else None


def _damage(body: str, kind: str) -> str:
    if kind == "truncate":
        return body[: body.rfind("//") - 500]
    if kind == "cut_sequence":
        head, _, tail = body.rpartition("\n//")
        lines = head.split("\n")
        return "\n".join(lines[:-3]) + "\n//" + tail
    first_end = body.find("//\n") + 3
    return body[first_end:].lstrip("\n")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeEutils

    def _serve(self, method: str):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        if method == "POST":
            length = int(self.headers.get("Content-Length", 0))
            params.update(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        util = url.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        status, headers, body = self.fake.answer(util, method, params)
        data = body.encode()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (e.g. after a stall)
            pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def log_message(self, *args):
        pass


class RunningServer:
    """A FakeEutils served on 127.0.0.1 at a random port, in a daemon thread."""

    def __init__(self, fake: FakeEutils):
        self.fake = fake
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/entrez/eutils/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
