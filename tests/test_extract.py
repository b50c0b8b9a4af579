"""Extract stage: window policy, strands, bases, duplicates and the indexed FASTA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pysam
import pytest
from Bio import SeqIO
from Bio.Seq import Seq
from Bio.SeqFeature import CompoundLocation, SeqFeature, SimpleLocation
from Bio.SeqRecord import SeqRecord

from genomedl.errors import GenomedlError
from genomedl.sequence import reverse_complement
from genomedl.stages.extract import run_extract
from genomedl.tables import read_json, read_tsv
from genomedl.windows.annotation import from_genbank
from genomedl.windows.collect import annotated_windows
from genomedl.windows.dedupe import collapse_duplicates
from genomedl.windows.policy import WindowPolicy
from genomedl.windows.tasks import TaskOptions

QUIET = dict(log=lambda *a: None)


def spliced_record(strand: int, seq: str | None = None) -> SeqRecord:
    """A 400 bp record with one mRNA of two exons, [50, 150) and [250, 350), on ``strand``."""
    if seq is None:
        seq = "".join(np.random.default_rng(0).choice(list("ACGT"), 400))
    location = CompoundLocation([SimpleLocation(50, 150, strand), SimpleLocation(250, 350, strand)][::strand])
    record = SeqRecord(Seq(seq), id="TEST1.1", annotations={"molecule_type": "DNA"})
    record.features.append(SeqFeature(location, type="mRNA", qualifiers={"gene": ["g1"]}))
    return record


def windows_of(record: SeqRecord, policy: WindowPolicy, task: str = "exon_intron", seed: int = 0):
    records = [(record.id, bytes(record.seq), from_genbank(record, **QUIET))]
    labels, windows, counts, _ = annotated_windows(records, task, policy, TaskOptions(), seed, **QUIET)
    return labels, windows, counts


@pytest.mark.parametrize("strand", [1, -1])
def test_windows_follow_the_strand(strand):
    record = spliced_record(strand)
    labels, windows, _ = windows_of(record, WindowPolicy(length=20, mode="centred"))
    assert labels["label"].tolist() == ["exon", "intron", "exon"]
    assert labels["start"].tolist() == [90, 190, 290]
    assert set(labels["strand"]) == {"+" if strand == 1 else "-"}
    for (start, end), window in zip(labels[["start", "end"]].to_numpy(), windows):
        forward = record.seq[start:end]
        assert window.tobytes().decode() == str(forward if strand == 1 else forward.reverse_complement())


def test_ambiguous_bases_are_not_centres():
    record = spliced_record(1)
    # an exon feature over the intron: bases 150-250 are then exon and intron at once
    record.features.append(SeqFeature(SimpleLocation(50, 350, 1), type="exon", qualifiers={"gene": ["g1"]}))
    labels, _, _ = windows_of(record, WindowPolicy(length=10, stride=10))
    centres = (labels["start"] + 5).to_numpy()
    assert not ((centres >= 150) & (centres < 250)).any()
    assert ((labels["label"] == "exon") == (centres < 150) | (centres >= 250)).all()


def test_tiling_covers_each_run_every_stride():
    labels, _, _ = windows_of(spliced_record(1), WindowPolicy(length=10, stride=25))
    centres = (labels["start"] + 5).tolist()
    assert centres == [62, 87, 112, 137, 162, 187, 212, 237, 262, 287, 312, 337]


def test_off_edge_windows_dropped_or_padded():
    record = spliced_record(1)
    dropped, _, counts = windows_of(record, WindowPolicy(length=300, mode="centred", off_edge="drop"))
    padded, windows, _ = windows_of(
        record, WindowPolicy(length=300, mode="centred", off_edge="pad", max_n_fraction=1.0)
    )
    assert len(dropped) == 1 and counts["dropped_off_edge"] == 2
    assert len(padded) == 3
    assert padded["start"].iloc[0] == 100 - 150
    assert windows[0, :50].tobytes() == b"N" * 50 and b"N" not in windows[0, 50:].tobytes()


def test_core_keeps_flanking_context_but_labels_the_centre():
    record = spliced_record(1)
    labels, _, _ = windows_of(
        record, WindowPolicy(length=200, mode="tiled", stride=10, core=40, off_edge="pad", max_n_fraction=1.0)
    )
    core_start = labels["start"].to_numpy() + 100 - 20
    exon = (labels["label"] == "exon").to_numpy()
    inside_exon = ((core_start >= 50) & (core_start + 40 <= 150)) | ((core_start >= 250) & (core_start + 40 <= 350))
    assert (exon == inside_exon).all() and exon.any()
    too_big, _, _ = windows_of(
        record, WindowPolicy(length=200, mode="centred", core=101, off_edge="pad", max_n_fraction=1.0)
    )
    assert too_big.empty  # no run is 101 bp long


def test_jitter_is_seeded_bounded_and_keeps_labels_true():
    record = spliced_record(1)
    policy = WindowPolicy(length=10, stride=5, jitter=3)
    a, _, _ = windows_of(record, policy, seed=1)
    b, _, _ = windows_of(record, policy, seed=1)
    c, _, _ = windows_of(record, policy, seed=2)
    plain, _, _ = windows_of(record, WindowPolicy(length=10, stride=5))
    assert a.equals(b) and not a["start"].equals(c["start"])
    shift = np.abs(a["start"].to_numpy()[:, None] - plain["start"].to_numpy()[None, :]).min(axis=1)
    assert shift.max() <= 3 and set(a["start"]) != set(plain["start"])
    centres = a["start"].to_numpy() + 5
    exon = ((centres >= 50) & (centres < 150)) | ((centres >= 250) & (centres < 350))
    assert ((a["label"] == "exon").to_numpy() == exon).all()


def test_soft_masked_and_iupac_bases_are_counted_and_normalised():
    seq = list("".join(np.random.default_rng(1).choice(list("ACGT"), 400)))
    seq[60:70] = "acgtacgtac"
    seq[80], seq[81], seq[260] = "R", "y", "N"
    labels, windows, counts = windows_of(spliced_record(1, "".join(seq)), WindowPolicy(length=40, stride=20))
    assert counts["lowercase"] == 11 and counts["iupac_to_n"] == 2
    assert set(np.unique(windows).tobytes()) <= set(b"ACGTN")
    row = int(np.flatnonzero(labels["start"].to_numpy() == 60)[0])
    assert windows[row, :10].tobytes() == b"ACGTACGTAC"
    assert windows[row, 20:22].tobytes() == b"NN"


def test_windows_with_too_many_n_are_dropped():
    seq = list("".join(np.random.default_rng(2).choice(list("ACGT"), 400)))
    seq[292:302] = "N" * 10  # half of the second exon's window
    policy = WindowPolicy(length=20, mode="centred", max_n_fraction=0.25)
    kept, _, counts = windows_of(spliced_record(1, "".join(seq)), policy)
    assert kept["start"].tolist() == [90, 190] and counts["dropped_too_many_n"] == 1


def test_duplicates_and_reverse_complements_collapse_and_conflicts_drop():
    rng = np.random.default_rng(3)
    base = rng.choice(np.frombuffer(b"ACGT", np.uint8), size=(4, 12))
    windows = np.stack([base[0], base[0], reverse_complement(base[1:2])[0], base[1], base[2], base[2], base[3]])
    labels = pd.DataFrame({"id": [f"w{i}" for i in range(7)], "label": ["a", "a", "b", "b", "a", "b", "a"]})
    kept, rows, counts = collapse_duplicates(labels, windows)
    assert kept["id"].tolist() == ["w0", "w2", "w6"]
    assert (rows == windows[[0, 2, 6]]).all()
    assert counts["exact"] == 2 and counts["reverse_complement"] == 1
    assert counts["conflicting_groups"] == 1 and counts["dropped_conflicting"] == 2
    assert counts["conflict_examples"] == ["w4 a = w5 b"]  # the group's members side by side


def test_real_records_give_indexed_fasta(tmp_path, biopython_genbank):
    path = biopython_genbank / "arab1.gb"
    n = run_extract(
        tmp_path / "s.fa.gz",
        tmp_path / "labels.tsv",
        tmp_path / "summary.json",
        {"task": "exon_intron", "window": {"length": 100, "stride": 50}},
        seed=0,
        records=path,
        **QUIET,
    )
    labels = read_tsv(tmp_path / "labels.tsv")
    summary = read_json(tmp_path / "summary.json")
    assert n == len(labels) == summary["windows"]
    assert list(labels.columns) == ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
    assert summary["class_counts"] == labels["label"].value_counts().to_dict()
    assert (
        summary["windows_before_dedupe"]
        == n
        + summary["duplicates"]["exact"]
        + summary["duplicates"]["reverse_complement"]
        + summary["duplicates"]["dropped_conflicting"]
    )
    record = SeqIO.read(path, "genbank")
    with pysam.FastaFile(str(tmp_path / "s.fa.gz")) as fasta:
        assert list(fasta.references) == labels["id"].tolist()
        assert set(fasta.lengths) == {100}
        for row in labels.iloc[:: max(1, len(labels) // 10)].itertuples():
            forward = record.seq[row.start : row.end]
            expected = forward if row.strand == "+" else forward.reverse_complement()
            assert fasta.fetch(row.id) == str(expected).upper()


@pytest.mark.parametrize(
    "bad, key", [({"mode": "sliding"}, "window.mode"), ({"core": 500}, "window.core"), ({"width": 3}, "window")]
)
def test_bad_window_keys_name_the_key(bad, key):
    with pytest.raises(GenomedlError, match=f"config key {key}"):
        WindowPolicy.from_config({"length": 200, **bad})
