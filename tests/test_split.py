"""Split stage: stratified, grouped (no group in two splits), seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genomedl.errors import GenomedlError
from genomedl.split import assign_splits, run_split
from genomedl.tables import read_json, read_tsv, write_tsv


def labels_frame(n_groups=20, per_group=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        for i in range(per_group):
            rows.append({"id": f"g{g}_{i}", "label": "exon" if rng.random() < 0.3 else "intron",
                         "accession": f"REC{g}.1", "gene": f"gene{g % 7}", "group": f"REC{g}.1",
                         "start": i, "end": i + 10, "strand": "+"})
    return pd.DataFrame(rows)


def test_no_record_in_two_splits_and_all_splits_used():
    labels = labels_frame()
    split = assign_splits(labels, 0.15, 0.15, "record", seed=3)
    per_record = labels.assign(split=split).groupby("accession")["split"].nunique()
    assert (per_record == 1).all()
    assert set(split) == {"train", "val", "test"}
    fractions = split.value_counts(normalize=True)
    assert 0.05 < fractions["test"] < 0.3 and 0.05 < fractions["val"] < 0.3


def test_gene_grouping_keeps_genes_together():
    labels = labels_frame()
    split = assign_splits(labels, 0.2, 0.2, "gene", seed=1)
    keyed = labels.assign(split=split, key=labels["accession"] + ":" + labels["gene"])
    assert (keyed.groupby("key")["split"].nunique() == 1).all()


def test_same_seed_same_bytes(tmp_path):
    write_tsv(labels_frame(), tmp_path / "labels.tsv")
    for run in ("a", "b"):
        run_split(tmp_path / "labels.tsv", tmp_path / run / "split.tsv", tmp_path / run / "summary.json",
                  0.15, 0.15, "record", 7, log=lambda *a: None)
    assert (tmp_path / "a" / "split.tsv").read_bytes() == (tmp_path / "b" / "split.tsv").read_bytes()
    summary = read_json(tmp_path / "a" / "summary.json")
    split = read_tsv(tmp_path / "a" / "split.tsv")
    assert summary["leakage"]["ok"] is True
    assert sum(sum(c.values()) for c in summary["class_counts"].values()) == len(split)


def test_too_few_groups_is_one_clear_error(tmp_path):
    write_tsv(labels_frame(n_groups=2), tmp_path / "labels.tsv")
    with pytest.raises(GenomedlError, match="group"):
        run_split(tmp_path / "labels.tsv", tmp_path / "split.tsv", tmp_path / "summary.json", 0.15, 0.15,
                  "record", 1, log=lambda *a: None)
    assert not (tmp_path / "split.tsv").exists()
