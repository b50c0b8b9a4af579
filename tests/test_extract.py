"""Extract stage: exon/intron windows, strand handling and the indexed FASTA."""

from __future__ import annotations

import numpy as np
import pysam
import pytest
from Bio.Seq import Seq
from Bio.SeqFeature import CompoundLocation, SeqFeature, SimpleLocation
from Bio.SeqRecord import SeqRecord

from genomedl.errors import GenomedlError
from genomedl.extract import WindowPolicy, exon_intron_intervals, record_windows, run_extract
from genomedl.fetch import run_fetch
from genomedl.tables import read_json, read_tsv


def spliced_record(strand: int) -> SeqRecord:
    """A 400 bp record with one mRNA of two exons, [50, 150) and [250, 350), on ``strand``."""
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 400))
    location = CompoundLocation([SimpleLocation(50, 150, strand), SimpleLocation(250, 350, strand)])
    record = SeqRecord(Seq(seq), id="TEST1.1", annotations={"molecule_type": "DNA"})
    record.features.append(SeqFeature(location, type="mRNA", qualifiers={"gene": ["g1"]}))
    return record


def test_exons_are_parts_and_introns_are_gaps():
    iv = exon_intron_intervals(spliced_record(1), log=lambda *a: None)
    got = sorted(zip(iv.start.tolist(), iv.end.tolist(), iv.label.tolist()))
    assert got == [(50, 150, 0), (150, 250, 1), (250, 350, 0)]


@pytest.mark.parametrize("strand", [1, -1])
def test_windows_follow_the_strand(strand):
    record = spliced_record(strand)
    policy = WindowPolicy(length=20, mode="centred", off_edge="drop")
    rows, windows, _ = record_windows(record, policy, "test", log=lambda *a: None)
    assert rows["label"].tolist() == [0, 1, 0]
    assert rows["start"].tolist() == [90, 190, 290]
    for (start, end), window in zip(rows[["start", "end"]].to_numpy(), windows):
        forward = str(record.seq[start:end])
        expected = forward if strand == 1 else str(Seq(forward).reverse_complement())
        assert window.tobytes().decode() == expected
    assert set(rows["strand"]) == {"+" if strand == 1 else "-"}


def test_ambiguous_bases_are_not_centres():
    record = spliced_record(1)
    # a second transcript that keeps the intron: bases 150-250 are then exon and intron at once
    record.features.append(SeqFeature(SimpleLocation(50, 350, 1), type="exon", qualifiers={"gene": ["g1"]}))
    rows, _, _ = record_windows(record, WindowPolicy(length=10, mode="tiled", stride=10), "t", log=lambda *a: None)
    centres = (rows["start"] + 5).to_numpy()
    assert not ((centres >= 150) & (centres < 250)).any()
    assert (rows["label"] == 0).sum() > 0


def test_off_edge_windows_dropped_or_padded():
    record = spliced_record(1)
    long_policy = dict(length=300, mode="centred")
    dropped, _, counts = record_windows(record, WindowPolicy(**long_policy, off_edge="drop"), "t", log=lambda *a: None)
    padded, windows, _ = record_windows(record, WindowPolicy(**long_policy, off_edge="pad", max_n_fraction=1.0),
                                        "t", log=lambda *a: None)
    assert len(dropped) == 1 and counts["dropped_off_edge"] == 2
    assert len(padded) == 3
    assert windows[0, :1].tobytes() == b"N"  # the first exon's window starts before the record


def test_real_records_give_indexed_fasta(tmp_path, biopython_genbank):
    raw = tmp_path / "raw"
    run_fetch({"local": [str(biopython_genbank / "arab1.gb")]}, raw / "r.gb.gz", raw / "m.tsv", raw / "g.json",
              log=lambda *a: None)
    n = run_extract(raw / "r.gb.gz", "exon_intron", WindowPolicy(length=100, stride=50), tmp_path / "s.fa.gz",
                    tmp_path / "labels.tsv", tmp_path / "summary.json", log=lambda *a: None)
    labels = read_tsv(tmp_path / "labels.tsv")
    summary = read_json(tmp_path / "summary.json")
    assert n == len(labels) == summary["windows"]
    assert set(labels["label"]) == {"exon", "intron"}
    assert summary["class_counts"] == labels["label"].value_counts().to_dict()
    assert labels["id"].is_unique
    with pysam.FastaFile(str(tmp_path / "s.fa.gz")) as fasta:
        assert list(fasta.references) == labels["id"].tolist()
        assert set(fasta.lengths) == {100}
        row = labels.iloc[len(labels) // 2]
        from Bio import SeqIO
        record = SeqIO.read(biopython_genbank / "arab1.gb", "genbank")
        forward = record.seq[row["start"]:row["end"]]
        expected = forward if row["strand"] == "+" else forward.reverse_complement()
        assert fasta.fetch(row["id"]) == str(expected).upper()


def test_record_without_splicing_gives_one_clear_error(tmp_path, biopython_genbank):
    raw = tmp_path / "raw"
    run_fetch({"local": [str(biopython_genbank / "cor6_6.gb")]}, raw / "r.gb.gz", raw / "m.tsv", raw / "g.json",
              log=lambda *a: None)
    with pytest.raises(GenomedlError, match="shorten window.length|at least two classes"):
        run_extract(raw / "r.gb.gz", "exon_intron", WindowPolicy(length=5000), tmp_path / "s.fa.gz",
                    tmp_path / "labels.tsv", tmp_path / "summary.json", log=lambda *a: None)
    assert not (tmp_path / "s.fa.gz").exists()
