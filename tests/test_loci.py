"""Locus-aware splits (split.group_by: locus, the default): windows that overlap, and genes that overlap, stay
in one split; windows without a gene follow the nearest gene or a genomic bin. The default split works on a
single chromosome-sized record."""

from __future__ import annotations

import numpy as np
import pytest

from genomedl.errors import GenomedlError
from genomedl.splits.loci import overlap_clusters, record_loci
from genomedl.stages.encode import run_encode
from genomedl.stages.extract import run_extract
from genomedl.stages.split import run_split
from genomedl.tables import read_json, read_tsv

QUIET = {"log": lambda *a: None}


def test_loci_join_overlaps_and_genes_and_place_gene_free_windows():
    """Hand-made intervals (not real data): each rule of the grouping once."""
    starts = np.array([0, 50, 100, 300, 1000, 1100, 20000, 20500, 50000, 50150, 60000])
    ends = starts + 100
    ends[-1] = 60100
    genes = np.array(["g1", "g1", "", "g2", "", "g3", "", "", "g4", "g4b", "g4"], dtype=object)
    assert overlap_clusters(starts, ends).tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert record_loci(starts, ends, genes, flank=5000, bin_size=10000) == [
        "locus0",
        "locus0",
        "locus0",  # overlapping windows, one with no gene: one locus
        "locus1",  # g2 alone
        "locus2",
        "locus2",  # a gene-free window 0 bp from g3 joins it
        "bin2",
        "bin2",  # farther than the flank from every gene: a 10 kb bin
        "locus3",
        "locus3",
        "locus3",  # g4's windows 10 kb apart are one locus, and g4b overlaps g4
    ]


def window_overlaps_across_splits(labels) -> int:
    """Pairs of overlapping windows (same record) that sit in different splits."""
    count = 0
    for _, part in labels.sort_values("start").groupby("accession"):
        starts, ends, split = part["start"].to_numpy(), part["end"].to_numpy(), part["split"].to_numpy()
        for i in range(len(part)):
            j = i + 1 + np.flatnonzero(starts[i + 1 :] < ends[i])  # later windows that start inside window i
            count += int((split[j] != split[i]).sum())
    return count


def test_a_gene_symbol_used_twice_far_apart_is_two_loci():
    """Gene symbols repeat along a genome (A. thaliana chromosome 1 has PS1 at 2.77 Mb and 12.54 Mb): windows of one
    name more than locus_bin apart are two genes, so the chromosome between them is not one locus. Coordinates are
    planted (synthetic) at those positions; two genes, one between them."""
    starts = np.array([2_770_824, 2_771_000, 7_000_000, 7_000_300, 12_541_378, 12_541_500])
    genes = np.array(["PS1", "PS1", "OTHER", "OTHER", "PS1", "PS1"], dtype=object)
    names = record_loci(starts, starts + 200, genes, flank=5000, bin_size=1_000_000)
    assert names[0] == names[1] and names[4] == names[5] and names[2] == names[3]
    assert len({names[0], names[2], names[4]}) == 3
    # within bin_size, one name is one gene: its windows stay together across a long intron
    names = record_loci(starts[:2] + [0, 400_000], starts[:2] + [200, 400_200], genes[:2], 5000, 1_000_000)
    assert names[0] == names[1]


@pytest.mark.parametrize("task", ["splice_site", "exon_intron", "promoter"])
def test_default_split_of_a_real_chromosome_slice_keeps_loci_apart(arabidopsis_2mb, tmp_path, task):
    """The first 2 Mb of A. thaliana chromosome 1 (one sequence, about 700 genes). By record it is one group
    and cannot be split; the default (locus) splits it, and no window overlaps a window of another split."""
    source = {"reference": {k: str(v) for k, v in arabidopsis_2mb.items()}}
    settings = {"task": task, "window": {"length": 200, "stride": 400}, "source": source}
    run_extract(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "x.json", settings, seed=1, **QUIET)
    run_encode(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "t.npy", tmp_path / "m.json", **QUIET)
    summary = run_split(
        tmp_path / "labels.tsv", tmp_path / "t.npy", tmp_path / "split.tsv", tmp_path / "s.json", {}, seed=1, **QUIET
    )
    labels = read_tsv(tmp_path / "labels.tsv").merge(read_tsv(tmp_path / "split.tsv"), on="id")
    assert labels["accession"].nunique() == 1 and summary["group_by"] == "locus"
    assert min(summary["groups"].values()) >= 20
    for part in ("train", "val", "test"):
        assert set(labels.loc[labels["split"] == part, "label"]) == set(read_json(tmp_path / "x.json")["classes"])
    assert window_overlaps_across_splits(labels) == 0
    genic = labels[labels["gene"].fillna("") != ""]
    assert (genic.groupby("gene")["split"].nunique() == 1).all()  # a gene never spans two splits
    with pytest.raises(GenomedlError, match="only 1 group"):
        run_split(
            tmp_path / "labels.tsv",
            tmp_path / "t.npy",
            tmp_path / "r.tsv",
            tmp_path / "r.json",
            {"group_by": "record"},
            seed=1,
            **QUIET,
        )


def test_records_of_one_window_get_the_keys_of_the_general_rule():
    """Labelled sequences make every sequence its own record (hand-made rows of that shape): those records are
    named at once, and every key equals what the per-record rule gives, beside records of several windows."""
    import pandas as pd

    from genomedl.splits.loci import locus_keys

    single = pd.DataFrame({"accession": [f"seq{i}" for i in range(300)], "gene": "", "start": 0, "end": 101})
    single.loc[::7, "gene"] = "CTCFL"  # some with a gene name
    several = pd.DataFrame(
        {"accession": ["chr1"] * 4, "gene": ["g1", "", "", "g2"], "start": [0, 50, 3_000_000, 9000], "end": 0}
    ).assign(end=lambda f: f["start"] + 101)
    labels = pd.concat([single.iloc[:100], several, single.iloc[100:]], ignore_index=True)
    expected = np.empty(len(labels), dtype=object)
    for accession, rows in labels.groupby("accession", sort=False).indices.items():
        part = labels.iloc[rows]
        names = record_loci(
            part["start"].to_numpy(), part["end"].to_numpy(), part["gene"].to_numpy(dtype=object), 5000, 1_000_000
        )
        expected[rows] = [f"{accession}:{n}" for n in names]
    assert locus_keys(labels, 5000, 1_000_000).tolist() == expected.tolist()
    assert expected[0] == "seq0:locus0" and expected[1] == "seq1:bin0" and expected[101] == "chr1:locus0"
