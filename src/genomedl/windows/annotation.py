"""One annotation model for every input: GenBank features, or GFF3 / GTF / BED rows read with pysam.

Coordinates are 0-based, end-exclusive; strand is +1 or -1. ``parts`` are int64 ``[k, 2]`` arrays
sorted by start. A transcript's ``cds`` is the genomic span of its coding sequence when known.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from genomedl.console import log as console_log
from genomedl.errors import GenomedlError
from genomedl.integrity import quiet_htslib
from genomedl.sources.genbank_text import first_lines, parse_record, split_records

UTR_TYPES = {"5'UTR", "3'UTR", "five_prime_UTR", "three_prime_UTR", "UTR"}
FORMATS = {".gff3": "gff3", ".gff": "gff3", ".gtf": "gtf", ".bed": "bed"}


@dataclass
class Feature:
    parts: np.ndarray
    strand: int
    gene: str
    kind: str = ""
    cds: tuple[int, int] | None = None

    @property
    def span(self) -> tuple[int, int]:
        return int(self.parts[0, 0]), int(self.parts[-1, 1])

    def gaps(self) -> np.ndarray:
        """Introns between consecutive parts, int64 ``[k - 1, 2]``."""
        return np.stack([self.parts[:-1, 1], self.parts[1:, 0]], axis=1)


@dataclass
class Annotation:
    seq_id: str
    transcripts: list[Feature] = field(default_factory=list)
    cds: list[Feature] = field(default_factory=list)
    exons: list[Feature] = field(default_factory=list)
    introns: list[Feature] = field(default_factory=list)
    utrs: list[Feature] = field(default_factory=list)
    genes: list[Feature] = field(default_factory=list)

    def all_features(self) -> list[Feature]:
        return self.transcripts + self.cds + self.exons + self.introns + self.utrs + self.genes


def is_transcript(kind: str) -> bool:
    return kind == "transcript" or kind.endswith("RNA") or kind.endswith("_transcript")


def make_feature(parts, strand, gene, kind, where, log) -> Feature | None:
    """Feature from parts in biological order; None (with a note) for trans-spliced or wrapping ones."""
    parts = np.asarray(parts, np.int64).reshape(-1, 2)
    ordered = parts[np.argsort(parts[:, 0], kind="stable")]
    expected = ordered if strand > 0 else ordered[::-1]
    name = f"{kind} {gene or '(no gene name)'}"
    if len(parts) > 1 and (not np.array_equal(parts, expected) or (ordered[1:, 0] < ordered[:-1, 1]).any()):
        log(f"note: {where}: {name} is trans-spliced, wraps the origin or overlaps itself; skipped")
        return None
    if (ordered[:, 1] <= ordered[:, 0]).any():
        log(f"note: {where}: {name} has an empty part; skipped")
        return None
    return Feature(ordered, 1 if strand >= 0 else -1, gene, kind)


def attach_cds(transcripts: list[Feature], cds: list[Feature]) -> None:
    """Give each transcript the span of a CDS of the same gene and strand that it can encode
    (CDS inside the transcript, every CDS intron also a transcript intron)."""
    by_key = defaultdict(list)
    for feature in cds:
        by_key[feature.gene, feature.strand].append(feature)
    for tx in transcripts:
        junctions = set(map(tuple, tx.gaps().tolist()))
        for feature in by_key[tx.gene, tx.strand]:
            start, end = feature.span
            if tx.span[0] <= start and end <= tx.span[1] and set(map(tuple, feature.gaps().tolist())) <= junctions:
                tx.cds = (start, end)
                break


def _gene_name(qualifiers: dict) -> str:
    for key in ("gene", "locus_tag", "product"):
        if qualifiers.get(key):
            return qualifiers[key][0]
    return ""


def from_genbank(record, log=console_log) -> Annotation:
    """Annotation of one Biopython SeqRecord (mRNA/ncRNA..., CDS, exon, intron, UTR and gene features)."""
    ann = Annotation(record.id)
    for feature in record.features:
        kind = feature.type
        if feature.location is None:
            continue
        target = (
            ann.transcripts
            if is_transcript(kind)
            else ann.utrs
            if kind in UTR_TYPES
            else {"CDS": ann.cds, "exon": ann.exons, "intron": ann.introns, "gene": ann.genes}.get(kind)
        )
        if target is None:
            continue
        parts = feature.location.parts
        strands = {part.strand for part in parts}
        gene = _gene_name(feature.qualifiers)
        if len(strands) != 1:
            log(f"note: {record.id}: {kind} {gene} mixes strands; skipped")
            continue
        made = make_feature([(int(p.start), int(p.end)) for p in parts], strands.pop() or 1, gene, kind, record.id, log)
        if made is not None:
            target.append(made)
    attach_cds(ann.transcripts, ann.cds)
    return ann


def check_bounds(ann: Annotation, length: int, origin, where: str, log) -> None:
    """Features that end past the sequence's ``length`` bp: more than 1% of them refuse the run (the annotation
    is of another assembly); a few are dropped from ``ann`` with a count."""
    features = ann.all_features()
    beyond = [f for f in features if f.span[1] > length]
    if not beyond:
        return
    first = min(beyond, key=lambda f: f.span)
    named = f"the first {first.kind} {first.gene or '(no gene name)'} at {first.span[0] + 1}-{first.span[1]}"
    if len(beyond) * 100 > len(features):
        raise GenomedlError(
            f"{origin}: {len(beyond)} of {len(features)} features of {ann.seq_id} end past the end of {where}, "
            f"{named}; the annotation is probably of another assembly: give the FASTA and annotation of one assembly"
        )
    for name in ("transcripts", "cds", "exons", "introns", "utrs", "genes"):
        setattr(ann, name, [f for f in getattr(ann, name) if f.span[1] <= length])
    log(
        f"warning: {origin}: {len(beyond)} of {len(features)} features of {ann.seq_id} end past the end of "
        f"{where}, {named}; skipped"
    )


BED_COLUMNS = {"exon_intron": 12, "splice_site": 12, "region": 12, "coding": 8}  # task -> columns it needs


def check_bed_columns(path: Path, task: str) -> None:
    """Refuse a BED file narrower than ``task`` needs (BED12 blocks are the exons, columns 7-8 the CDS)."""
    need = BED_COLUMNS.get(task, 3)
    with open(path, "rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rt") if packed else open(path) as handle:
        line = next((x for x in handle if x.strip() and not x.startswith(("#", "track", "browser"))), "")
    width = len(line.rstrip("\r\n").split("\t"))
    if line and width < need:
        raise GenomedlError(
            f"{path}: a BED{width} file, but task {task} needs BED{need} ("
            + ("blockCount/blockSizes/blockStarts give the exons" if need == 12 else "thickStart/thickEnd give the CDS")
            + "); give a BED12 file (e.g. from gtfToGenePred + genePredToBed) or a GFF3/GTF annotation"
        )


def annotation_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    name = Path(path).name.lower().removesuffix(".gz")
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise GenomedlError(
        f"{path}: cannot tell the annotation format from the file name; name it .gff3, .gtf "
        "or .bed (optionally .gz), or set source.reference.format"
    )


def _rows(path: Path, parser, contigs: list[str], only: set[str] | None = None, elsewhere: set[str] | None = None):
    """Rows parsed by pysam: through the tabix index when there is one (of ``contigs``), else streamed (of the
    sequences in ``only``; all when None; the sequence ids of the rows left out are added to ``elsewhere``)."""
    if Path(f"{path}.tbi").exists() or Path(f"{path}.csi").exists():
        with quiet_htslib(), pysam.TabixFile(str(path), parser=parser) as tabix:
            present = set(tabix.contigs)
            for contig in contigs:
                if contig in present:
                    yield from tabix.fetch(contig)
        return
    with open(path, "rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rt") if packed else open(path) as handle:
        rows = pysam.tabix_iterator(UpToFasta(handle), parser)
        if only is None:
            yield from rows
            return
        for row in rows:
            if row.contig in only:
                yield row
            elif elsewhere is not None:
                elsewhere.add(row.contig)


def tabix_contigs(path: Path) -> set[str]:
    """The sequence ids of a tabix-indexed annotation (from its index)."""
    with quiet_htslib(), pysam.TabixFile(str(path)) as tabix:
        return set(tabix.contigs)


class UpToFasta:
    """A text handle that ends at a GFF3 ``##FASTA`` line: the sequences embedded after it are not rows."""

    closed = False

    def __init__(self, handle):
        self.handle, self.done = handle, False

    def readline(self) -> str:
        line = "" if self.done else self.handle.readline()
        if line.startswith("##FASTA"):
            self.done, line = True, ""
        return line


ATTRIBUTES = {  # the attributes the annotation model reads, by format (GFF3 key=value; GTF key "value")
    "gff3": re.compile(r"(?:^|;)\s*(ID|Parent|gene|Name)=([^;]*)"),
    "gtf": re.compile(r'(?:^|;)\s*(transcript_id|gene_name|gene_id)\s+"?([^";]*)"?'),
}


def _attrs(row, fmt: str) -> dict:
    """The attributes of a GFF3 or GTF row that the annotation model reads (see ATTRIBUTES)."""
    return dict(ATTRIBUTES[fmt].findall(row.attributes))


def _strand(symbol: str) -> int:
    return -1 if symbol == "-" else 1


def read_annotation(
    path: Path,
    fmt: str,
    contigs: list[str],
    log=console_log,
    only: list[str] | None = None,
    elsewhere: set[str] | None = None,
) -> dict[str, Annotation]:
    """Annotations by sequence id from a GFF3, GTF or BED file (plain, gzip or bgzip + tabix index); ``only``:
    keep just these sequences' rows while streaming (one group of a scattered reference), adding the ids of the
    others to ``elsewhere``."""
    readers = {"gff3": (_from_gff, pysam.asGFF3), "gtf": (_from_gff, pysam.asGTF), "bed": (_from_bed, pysam.asBed)}
    read, parser = readers[fmt]
    try:
        rows = _rows(path, parser(), contigs, None if only is None else set(only), elsewhere)
        return read(rows, fmt, str(path), log)
    except (ValueError, KeyError, IndexError, OSError, UnicodeDecodeError) as exc:
        problem = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise GenomedlError(
            f"{path}: not a valid {fmt.upper()} file ({problem}); check the format "
            "(source.reference.format) and the file"
        ) from None


def _from_bed(rows, fmt, origin, log) -> dict[str, Annotation]:
    """BED: each line is a transcript; BED12 blocks are its exons, thickStart..thickEnd its CDS."""
    out: dict[str, Annotation] = {}
    for row in rows:
        ann = out.setdefault(row.contig, Annotation(row.contig))
        width = len(row)
        name = row.name if width > 3 else ""
        strand = _strand(row.strand) if width > 5 else 1
        parts = [(row.start, row.end)]
        if width >= 12 and int(row.blockCount) > 0:
            sizes = [int(x) for x in row.blockSizes.strip(",").split(",")]
            offsets = [int(x) for x in row.blockStarts.strip(",").split(",")]
            parts = [(row.start + o, row.start + o + s) for o, s in zip(offsets, sizes)]
        if strand < 0:
            parts = parts[::-1]
        tx = make_feature(parts, strand, name, "transcript", f"{origin}: {row.contig}", log)
        if tx is None:
            continue
        if width >= 8 and int(row.thickEnd) > int(row.thickStart):
            tx.kind, tx.cds = "mRNA", (int(row.thickStart), int(row.thickEnd))
            clipped = np.clip(tx.parts, *tx.cds)
            ann.cds.append(Feature(clipped[clipped[:, 1] > clipped[:, 0]], strand, name, "CDS"))
        ann.transcripts.append(tx)
        ann.genes.append(Feature(np.array([tx.span], np.int64), strand, name, "gene"))
    return out


def _gff_rows(rows, fmt: str, origin: str) -> list[tuple]:
    """(contig, type, start, end, strand, id, parent ids, gene name) of GFF3 or GTF rows.

    GTF: a row's id is its transcript_id on transcript rows, its parent that transcript on exon/CDS
    rows. GFF3: ID and Parent; the gene name is the ``gene`` attribute, else the parent's name.
    """
    table = [(r.contig, r.feature, int(r.start), int(r.end), _strand(r.strand), _attrs(r, fmt)) for r in rows]
    if fmt == "gtf":
        orphans = [(c, k, s) for c, k, s, _, _, a in table if k in ("exon", "CDS") and not a.get("transcript_id")]
        if orphans:
            contig, kind, start = orphans[0]
            raise GenomedlError(
                f"{origin}: {len(orphans)} exon/CDS row(s) have no transcript_id attribute (the first: {kind} "
                f'at {contig}:{start + 1}); GTF rows name their transcript with transcript_id "...": add it, '
                "or give a GFF3 file (ID/Parent)"
            )
        return [
            (
                c,
                k,
                s,
                e,
                t,
                a.get("transcript_id", "") if k == "transcript" else "",
                [a["transcript_id"]] if a.get("transcript_id") and k != "transcript" else [],
                a.get("gene_name") or a.get("gene_id", ""),
            )
            for c, k, s, e, t, a in table
        ]
    names = _gene_names({a["ID"]: a for *_, a in table if a.get("ID")})
    out = []
    for c, k, s, e, t, a in table:
        parents = [p for p in a.get("Parent", "").split(",") if p]
        gene = a.get("gene") or next((names[p] for p in parents if p in names), "") or a.get("Name", "")
        out.append((c, k, s, e, t, a.get("ID", ""), parents, gene))
    return out


def _gene_names(rows: dict[str, dict]) -> dict[str, str]:
    """Gene name of every GFF3 ID: its own ``gene`` attribute, else its parent's gene name (followed up the
    Parent chain: CDS -> mRNA -> gene), else its ``Name``, else the ID. An mRNA without ``gene=`` thus takes its
    gene's name, not its own transcript Name, so every feature of one gene carries one name."""
    names: dict[str, str] = {}

    def name(ident: str, path: tuple[str, ...]) -> str:
        if ident not in names:
            attrs = rows[ident]
            parent = next((p for p in attrs.get("Parent", "").split(",") if p in rows and p not in path), None)
            inherited = name(parent, (*path, ident)) if parent else ""
            names[ident] = attrs.get("gene") or inherited or attrs.get("Name") or ident
        return names[ident]

    for ident in rows:
        name(ident, ())
    return names


def _single(start: int, end: int, strand: int, gene: str, kind: str) -> Feature:
    return Feature(np.array([[start, end]], np.int64), strand, gene, kind)


def _from_gff(rows, fmt, origin, log) -> dict[str, Annotation]:
    """GFF3 (ID/Parent) or GTF (transcript_id): transcripts are assembled from their exon rows; exons
    of no transcript (GFF3 ``Parent=gene``) stay explicit exon features."""
    table = _gff_rows(rows, fmt, origin)
    out = {c: Annotation(c) for c, *_ in table}
    tx_rows = {(c, i): (k, s, e, t, g) for c, k, s, e, t, i, _, g in table if is_transcript(k) and i}
    exon_rows, cds_rows = defaultdict(list), defaultdict(list)
    for contig, kind, start, end, strand, ident, parents, gene in table:
        if kind == "exon":
            linked = [(contig, p) for p in parents]
            for parent in linked:
                exon_rows[parent].append((start, end))
                if fmt == "gtf":  # GTF files need no transcript rows
                    tx_rows.setdefault(parent, ("transcript", start, end, strand, gene))
            if not any(parent in tx_rows for parent in linked):
                out[contig].exons.append(_single(start, end, strand, gene, kind))
        elif kind == "CDS":
            cds_rows[contig, ident or ",".join(parents) or str(start)].append((start, end, strand, gene, parents))
        elif kind in ("intron", "gene") or kind in UTR_TYPES:
            target = (
                out[contig].introns if kind == "intron" else out[contig].genes if kind == "gene" else out[contig].utrs
            )
            target.append(_single(start, end, strand, gene, kind))
    transcripts = {}
    for (contig, tx_id), (kind, start, end, strand, gene) in tx_rows.items():
        parts = sorted(exon_rows.get((contig, tx_id)) or [(start, end)])
        made = make_feature(parts[::strand], strand, gene, kind, f"{origin}: {contig}", log)
        if made is not None:
            transcripts[contig, tx_id] = made
            out[contig].transcripts.append(made)
    for (contig, _), rows in cds_rows.items():
        strand, gene, parents = rows[0][2:]
        parts = sorted((s, e) for s, e, *_ in rows)
        made = make_feature(parts[::strand], strand, gene, "CDS", f"{origin}: {contig}", log)
        if made is None:
            continue
        out[contig].cds.append(made)
        for parent in parents:
            if (contig, parent) in transcripts:
                transcripts[contig, parent].cds = made.span
                if fmt == "gtf":
                    transcripts[contig, parent].kind = "mRNA"
    if fmt == "gtf":
        for ann in out.values():
            if not ann.genes:
                ann.genes = _gene_spans(ann.transcripts)
    return out


def _gene_spans(transcripts: list[Feature]) -> list[Feature]:
    """Gene features spanning each gene's transcripts (GTF files often have no gene rows)."""
    spans = {}
    for tx in transcripts:
        start, end = tx.span
        old = spans.get((tx.gene, tx.strand), (start, end))
        spans[tx.gene, tx.strand] = (min(old[0], start), max(old[1], end))
    return [Feature(np.array([span], np.int64), strand, gene, "gene") for (gene, strand), span in spans.items()]


def genbank_records(path: Path, log):
    """(id, sequence bytes, Annotation) of every record of a GenBank file (gzip or plain)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        texts = split_records(handle.read(), str(path))
    for number, (text, line) in enumerate(zip(texts, first_lines(texts)), start=1):
        record = parse_record(text, str(path), number, log, line)
        ann = from_genbank(record, log)
        check_bounds(ann, len(record.seq), path, f"record {number} ({record.id}, {len(record.seq)} bp)", log)
        yield record.id, bytes(record.seq), ann
