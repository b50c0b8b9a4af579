"""Extract tasks (splice sites, promoters, coding, regions) and the reference FASTA + annotation input."""

from __future__ import annotations

import shutil
from dataclasses import asdict

import numpy as np
import pysam
import pytest
from Bio.Seq import Seq
from Bio.SeqFeature import CompoundLocation, SeqFeature, SimpleLocation
from Bio.SeqRecord import SeqRecord

from genomedl.stages.extract import run_extract
from genomedl.tables import read_json, read_tsv
from genomedl.windows.annotation import from_genbank, genbank_records
from genomedl.windows.collect import annotated_windows
from genomedl.windows.policy import WindowPolicy
from genomedl.windows.tasks import TaskOptions

QUIET = dict(log=lambda *a: None)
TASKS = ["exon_intron", "splice_site", "promoter", "coding", "region"]


def feature(parts, strand, kind, gene="g1"):
    locations = [SimpleLocation(s, e, strand) for s, e in parts][::strand]
    location = CompoundLocation(locations) if len(locations) > 1 else locations[0]
    return SeqFeature(location, type=kind, qualifiers={"gene": [gene]})


def two_gene_record(seed: int = 0) -> SeqRecord:
    """3 kb: g1 (+) mRNA [500,700)+[900,1100), CDS [600,700)+[900,1000); g2 (-) mirrored at 2000-2600."""
    seq = "".join(np.random.default_rng(seed).choice(list("ACGT"), 3000))
    record = SeqRecord(Seq(seq), id="SYN1.1", annotations={"molecule_type": "DNA"})
    record.features += [
        feature([(500, 1100)], 1, "gene"),
        feature([(500, 700), (900, 1100)], 1, "mRNA"),
        feature([(600, 700), (900, 1000)], 1, "CDS"),
        feature([(2000, 2600)], -1, "gene", "g2"),
        feature([(2000, 2200), (2400, 2600)], -1, "mRNA", "g2"),
        feature([(2100, 2200), (2400, 2500)], -1, "CDS", "g2"),
    ]
    return record


def run_task(record, task, policy, options=None, seed=0):
    records = [(record.id, bytes(record.seq), from_genbank(record, **QUIET))]
    labels, windows, _, _ = annotated_windows(records, task, policy, TaskOptions(**(options or {})), seed, **QUIET)
    return labels, windows


def centre_classes(labels, length):
    return dict(zip((labels["start"] + length // 2).tolist(), labels["label"].tolist()))


def test_splice_sites_sit_at_the_window_centre_on_both_strands():
    record = two_gene_record()
    labels, windows = run_task(record, "splice_site", WindowPolicy(length=40), {"negatives": 2.0})
    sites = labels[labels["label"] != "none"]
    got = sorted(zip(sites["start"] + 20, sites["strand"], sites["label"]))
    # g1 (+): donor at 700, acceptor at 900; g2 (-): donor at 2400 (its intron's 5' end), acceptor at 2200
    assert got == [(700, "+", "donor"), (900, "+", "acceptor"), (2200, "-", "acceptor"), (2400, "-", "donor")]
    decoys = labels["label"].to_numpy() == "none"
    assert decoys.sum() == 8
    centre = windows[:, 18:22]
    donor_like = (centre[:, 2:] == np.frombuffer(b"GT", np.uint8)).all(axis=1)
    acceptor_like = (centre[:, :2] == np.frombuffer(b"AG", np.uint8)).all(axis=1)
    assert (donor_like | acceptor_like)[decoys].all()  # decoys share the dinucleotide, not the site
    assert donor_like[decoys][:4].all() and acceptor_like[decoys][4:].all()  # half GT, half AG decoys
    assert not set(zip(labels.loc[decoys, "start"], labels.loc[decoys, "strand"])) & set(
        zip(sites["start"], sites["strand"])
    )


def test_real_splice_sites_are_mostly_canonical(shared_data):
    records = list(genbank_records(shared_data / "genbank" / "NG_012772.1.gb", **QUIET))
    labels, windows, _, _ = annotated_windows(
        records, "splice_site", WindowPolicy(length=60), TaskOptions(), 0, **QUIET
    )
    centre = windows[:, 28:32]
    donors = (labels["label"] == "donor").to_numpy()
    acceptors = (labels["label"] == "acceptor").to_numpy()
    assert donors.sum() >= 26 and acceptors.sum() >= 26  # BRCA2: 27 exons
    assert (centre[donors, 2:] == np.frombuffer(b"GT", np.uint8)).all(axis=1).mean() > 0.9
    assert (centre[acceptors, :2] == np.frombuffer(b"AG", np.uint8)).all(axis=1).mean() > 0.9


def test_promoter_windows_end_downstream_of_the_start_on_the_gene_strand():
    record = two_gene_record()
    length, downstream = 100, 30
    options = {"tss_downstream": downstream, "background_distance": 300, "negatives": 3.0}
    labels, windows = run_task(record, "promoter", WindowPolicy(length=length, stride=10), options)
    promoters = labels[labels["label"] == "promoter"]
    assert sorted(zip(promoters["start"], promoters["strand"])) == [(500 - 70, "+"), (2600 - 30, "-")]
    for row, window in zip(labels.itertuples(), windows):
        forward = record.seq[row.start : row.end]
        assert window.tobytes().decode() == str(forward if row.strand == "+" else forward.reverse_complement())
    background = labels[labels["label"] == "background"]
    assert len(background) == 6
    for tss in (500, 2600):
        assert ((background["end"] <= tss - 300) | (background["start"] >= tss + 300)).all()


def test_coding_and_region_labels_follow_the_annotation():
    record = two_gene_record()
    policy = WindowPolicy(length=11, stride=50)
    coding = centre_classes(run_task(record, "coding", policy)[0], 11)
    region = centre_classes(run_task(record, "region", policy)[0], 11)
    expected_region = {
        25: "intergenic",
        525: "utr",
        625: "exon",
        725: "intron",
        925: "exon",
        1075: "utr",
        1525: "intergenic",
        2025: "utr",
        2125: "exon",
        2225: "intron",
        2575: "utr",
    }
    for centre, label in expected_region.items():
        assert region[centre] == label, centre
        assert coding[centre] == ("cds" if label == "exon" else "noncoding"), centre


def test_mrna_without_cds_is_not_called_utr_or_noncoding():
    record = two_gene_record()
    record.features = [f for f in record.features if f.type != "CDS"]
    labels, _ = run_task(record, "region", WindowPolicy(length=11, stride=50))
    centres = labels["start"].to_numpy() + 5
    exonic = ((centres >= 500) & (centres < 700)) | ((centres >= 2400) & (centres < 2600))
    assert labels.empty or not exonic.any()
    assert set(labels["label"]) == {"intron", "intergenic"}


def reference_source(shared_data, tmp_path, *, indexed=False):
    fasta, gff = shared_data / "gff" / "NG_012337.1.fasta", shared_data / "gff" / "NG_012337.1.gff3"
    if indexed:  # bgzip + faidx the FASTA, bgzip + tabix the GFF3 (sorted, as tabix requires)
        shutil.copy(fasta, tmp_path / "ref.fa")
        pysam.tabix_compress(str(tmp_path / "ref.fa"), str(tmp_path / "ref.fa.gz"))
        pysam.faidx(str(tmp_path / "ref.fa.gz"))
        rows = [line for line in gff.read_text().splitlines() if line and not line.startswith("#")]
        rows.sort(key=lambda line: (line.split("\t")[0], int(line.split("\t")[3])))
        (tmp_path / "ann.gff3").write_text("\n".join(rows) + "\n")
        pysam.tabix_index(str(tmp_path / "ann.gff3"), preset="gff", force=True)
        fasta, gff = tmp_path / "ref.fa.gz", tmp_path / "ann.gff3.gz"
    return {"reference": {"fasta": str(fasta), "annotation": str(gff)}}


@pytest.mark.parametrize("task", TASKS)
def test_genbank_and_fasta_gff3_of_one_gene_give_the_same_windows(shared_data, tmp_path, task):
    window = {"length": 100, "stride": 50}
    run_extract(
        tmp_path / "a.fa.gz",
        tmp_path / "a.tsv",
        tmp_path / "a.json",
        {"task": task, "window": window},
        seed=7,
        records=shared_data / "genbank" / "NG_012337.1.gb",
        **QUIET,
    )
    run_extract(
        tmp_path / "b.fa.gz",
        tmp_path / "b.tsv",
        tmp_path / "b.json",
        {"task": task, "window": window, "source": reference_source(shared_data, tmp_path, indexed=task == "region")},
        seed=7,
        **QUIET,
    )
    genbank, reference = read_tsv(tmp_path / "a.tsv"), read_tsv(tmp_path / "b.tsv")
    assert len(genbank) >= 5 and genbank["label"].nunique() >= 2
    assert read_json(tmp_path / "a.json")["class_counts"] == read_json(tmp_path / "b.json")["class_counts"]
    assert genbank.equals(reference)
    with pysam.FastaFile(str(tmp_path / "a.fa.gz")) as a, pysam.FastaFile(str(tmp_path / "b.fa.gz")) as b:
        assert all(a.fetch(name) == b.fetch(name) for name in a.references)


def test_gtf_and_bed12_describe_the_same_transcripts_as_genbank(tmp_path):
    record = two_gene_record()
    (tmp_path / "ref.fa").write_text(f">SYN1.1\n{record.seq}\n")
    gtf = []
    for gene, strand, exons, cds in (
        ("g1", "+", [(500, 700), (900, 1100)], [(600, 700), (900, 1000)]),
        ("g2", "-", [(2000, 2200), (2400, 2600)], [(2100, 2200), (2400, 2500)]),
    ):
        attrs = f'gene_id "{gene}"; transcript_id "{gene}.t1"; gene_name "{gene}";'
        gtf += [f"SYN1.1\tt\texon\t{s + 1}\t{e}\t.\t{strand}\t.\t{attrs}" for s, e in exons]
        gtf += [f"SYN1.1\tt\tCDS\t{s + 1}\t{e}\t.\t{strand}\t0\t{attrs}" for s, e in cds]
    (tmp_path / "ann.gtf").write_text("\n".join(gtf) + "\n")
    (tmp_path / "ann.bed").write_text(
        "SYN1.1\t500\t1100\tg1\t0\t+\t600\t1000\t0\t2\t200,200,\t0,400,\n"
        "SYN1.1\t2000\t2600\tg2\t0\t-\t2100\t2500\t0\t2\t200,200,\t0,400,\n"
    )
    policy = WindowPolicy(length=20, stride=30)
    for task in ("splice_site", "region"):
        expected, _ = run_task(record, task, policy, seed=3)
        for name in ("ann.gtf", "ann.bed"):
            out = tmp_path / f"{task}_{name}"
            source = {"reference": {"fasta": str(tmp_path / "ref.fa"), "annotation": str(tmp_path / name)}}
            run_extract(
                out / "s.fa.gz",
                out / "l.tsv",
                out / "s.json",
                {"task": task, "window": asdict(policy), "source": source},
                seed=3,
                **QUIET,
            )
            got = read_tsv(out / "l.tsv")
            assert got[["id", "label", "gene"]].equals(expected[["id", "label", "gene"]].astype(str)), (task, name)


def test_real_gff3_features_of_one_gene_share_its_name_and_decoys_match_sites(arabidopsis_2mb):
    """A. thaliana RefSeq GFF3 (real): mRNAs of genes without a symbol have no ``gene=``; their CDS rows must still
    take the gene's name (AT1G...), not the mRNA's Name (NM_...), or every splice site is counted once per name
    and twice as many decoys are drawn as ``negatives: 1.0`` asks."""
    from genomedl.windows.collect import reference_records

    (_, sequence, ann), *_ = reference_records(arabidopsis_2mb, log=lambda *a: None, task="splice_site")
    names = {f.gene for f in ann.cds + ann.transcripts}
    assert "NAC001" in names and "AT1G01080" in names  # a gene with a symbol (gene=) and one without
    assert not [n for n in names if n.startswith(("NM_", "NR_", "NP_", "rna-", "cds-"))]  # no transcript/protein ids
    records = [("chr1", sequence, ann)]
    labels, _, _, _ = annotated_windows(records, "splice_site", WindowPolicy(length=100), TaskOptions(), 0, **QUIET)
    sites = labels[labels["label"] != "none"]
    distinct_sites = len(sites.drop_duplicates(["start", "strand", "label"]))
    assert len(sites) - distinct_sites < 0.01 * distinct_sites  # one row per site (overlapping genes aside)
    assert abs((labels["label"] == "none").sum() - distinct_sites) <= 1
