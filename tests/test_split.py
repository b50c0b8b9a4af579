"""Split stage: strategies (grouped, k-fold, chromosome, predefined) and the leakage guards."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from genomedl.errors import GenomedlError
from genomedl.stages.split import run_split
from genomedl.tables import read_tsv, write_tsv

QUIET = {"log": lambda *a: None}
RC = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def write_inputs(folder, n_groups=20, per_group=30, seed=0, length=24, extra=None):
    """labels.tsv + tokens.npy of random windows (no duplicates by chance at this length)."""
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    labels = pd.DataFrame(
        {
            "id": [f"g{g}_{i}" for g in range(n_groups) for i in range(per_group)],
            "label": np.where(rng.random(n) < 0.3, "exon", "intron"),
            "accession": [f"REC{g}.1" for g in group],
            "gene": [f"gene{g % 7}" for g in group],
            "group": [f"REC{g}.1" for g in group],
            "start": 0,
            "end": length,
            "strand": "+",
            **(extra or {}),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_tsv(labels, folder / "labels.tsv")
    tokens = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    np.save(folder / "tokens.npy", tokens)
    return labels, tokens


def split(folder, settings=None, seed=7, fold=0, out="out"):
    summary = run_split(
        folder / "labels.tsv",
        folder / "tokens.npy",
        folder / out / "split.tsv",
        folder / out / "summary.json",
        settings or {},
        seed,
        fold,
        **QUIET,
    )
    return read_tsv(folder / out / "split.tsv")["split"].to_numpy(), summary


def test_no_record_in_two_splits_and_all_splits_used(tmp_path):
    labels, _ = write_inputs(tmp_path)
    assigned, summary = split(tmp_path)
    per_record = labels.assign(split=assigned).groupby("accession")["split"].nunique()
    assert (per_record == 1).all() and set(assigned) == {"train", "val", "test"}
    fractions = pd.Series(assigned).value_counts(normalize=True)
    assert 0.05 < fractions["test"] < 0.3 and 0.05 < fractions["val"] < 0.3
    counts = pd.crosstab(assigned, labels["label"])
    assert summary["class_counts"]["test"]["exon"] == counts.loc["test", "exon"]
    proportions = counts.div(counts.sum(1), axis=0)
    gap = (proportions.max() - proportions.min()).max()
    assert summary["max_class_deviation"]["value"] == pytest.approx(gap, abs=1e-6)
    assert summary["leakage"]["ok"] is True and summary["strategy"] == "stratified_group"


def test_gene_grouping_keeps_genes_together(tmp_path):
    labels, _ = write_inputs(tmp_path)
    assigned, _ = split(tmp_path, {"group_by": "gene", "val": 0.2, "test": 0.2})
    keyed = labels.assign(split=assigned, key=labels["accession"] + ":" + labels["gene"])
    assert (keyed.groupby("key")["split"].nunique() == 1).all()


def plant_duplicates(folder, tokens):
    """Row 0 of group 0 reappears reverse-complemented in group 1 and identical in group 2."""
    tokens[30] = RC[tokens[0]][::-1]
    tokens[60] = tokens[0]
    np.save(folder / "tokens.npy", tokens)


def test_reverse_complement_leak_stops_the_run_unless_allowed(tmp_path):
    labels, tokens = write_inputs(tmp_path)
    plant_duplicates(tmp_path, tokens)
    # group 0 -> val, 1 -> test, 2 -> train: the copies sit in three splits
    write_tsv(
        labels.assign(
            split=np.select(
                [labels["accession"] == "REC0.1", labels["accession"] == "REC1.1"], ["dev", "test"], "train"
            )
        ),
        tmp_path / "labels.tsv",
    )
    with pytest.raises(GenomedlError, match="reverse-complement identical") as error:
        split(tmp_path, {"dedupe": "collapse"})  # predefined splits report twins unless dedupe collapses them
    assert "\n" not in str(error.value) and not (tmp_path / "out" / "split.tsv").exists()
    reported = split(tmp_path)[1]["leakage"]
    assert reported["reverse_complement_windows_in_two_splits"] == 1 and reported["allowed"] == [
        "identical_sequence",
        "reverse_complement",
    ]
    assigned, summary = split(tmp_path, {"allow": ["identical_sequence", "reverse_complement"], "dedupe": "collapse"})
    assert summary["strategy"] == "predefined" and set(assigned[labels["accession"] == "REC0.1"]) == {"val"}
    leak = summary["leakage"]
    assert leak["identical_windows_in_two_splits"] == 2 and leak["reverse_complement_windows_in_two_splits"] == 1
    assert leak["examples"]["reverse_complement"] == ["g1_0"] and leak["ok"] is False


def test_duplicates_merge_their_groups_before_splitting(tmp_path):
    labels, tokens = write_inputs(tmp_path)
    plant_duplicates(tmp_path, tokens)
    for seed in range(4):
        assigned, summary = split(tmp_path, seed=seed)
        assert len({assigned[0], assigned[30], assigned[60]}) == 1
        groups = set(labels["accession"][np.isin(assigned, [assigned[0]])])
        assert {"REC0.1", "REC1.1", "REC2.1"} <= groups
        assert summary["merged_groups"] == 2 and summary["leakage"]["ok"] is True


def test_chromosome_holdout(tmp_path):
    labels, _ = write_inputs(tmp_path, extra={"chrom": [f"chr{g % 5 + 1}" for g in range(20) for _ in range(30)]})
    assigned, summary = split(
        tmp_path, {"strategy": "chromosome", "val_chromosomes": ["chr2"], "test_chromosomes": ["chr3", "chr5"]}
    )
    expected = labels["chrom"].map({"chr2": "val", "chr3": "test", "chr5": "test"}).fillna("train")
    assert assigned.tolist() == expected.tolist() and summary["group_key"] == "chrom"
    with pytest.raises(GenomedlError, match="chr9.*available: chr1, chr2"):
        split(tmp_path, {"strategy": "chromosome", "val_chromosomes": ["chr9"], "test_chromosomes": ["chr1"]})


def test_kfold_folds_rotate_val_around_one_test_split(tmp_path):
    labels, _ = write_inputs(tmp_path)
    vals = []
    for fold in range(4):
        assigned, summary = split(tmp_path, {"strategy": "kfold", "k": 4}, fold=fold, out=f"fold{fold}")
        per_record = labels.assign(split=assigned).groupby("accession")["split"].nunique()
        assert (per_record == 1).all() and set(assigned) == {"train", "val", "test"}
        assert summary["fold"] == fold and summary["k"] == 4
        vals.append(assigned == "val")
        if fold == 0:
            test = assigned == "test"
        assert ((assigned == "test") == test).all()  # one outer test split, whatever the fold
    # every window outside the test split is val in exactly one fold
    assert (np.sum(vals, axis=0) == ~test).all()
    stratified, _ = split(tmp_path, {"strategy": "stratified_group"}, out="sg")
    assert ((stratified == "test") == test).all()  # the same test rows as the default strategy
    with pytest.raises(GenomedlError, match="fold 4 does not exist"):
        split(tmp_path, {"strategy": "kfold", "k": 4}, fold=4)
    with pytest.raises(GenomedlError, match="set split.strategy: kfold"):
        split(tmp_path, fold=1)


def test_class_deviation_guard(tmp_path):
    write_inputs(tmp_path)
    _, summary = split(tmp_path)
    limit = summary["max_class_deviation"]["value"] / 2
    with pytest.raises(GenomedlError, match="max_class_deviation"):
        split(tmp_path, {"max_class_deviation": limit})


def test_too_few_groups_is_one_clear_error(tmp_path):
    write_inputs(tmp_path, n_groups=2)
    with pytest.raises(GenomedlError, match="group"):
        split(tmp_path)
    assert not (tmp_path / "out" / "split.tsv").exists()


def test_encode_and_split_are_byte_identical_across_processes(tmp_path):
    """Same config and seed -> same tokens, split.tsv and split_summary.json, whatever the hash seed."""
    from genomedl.fasta_io import write_windows_fasta

    labels, tokens = write_inputs(tmp_path / "in", n_groups=12, per_group=10)
    plant_duplicates(tmp_path / "in", tokens)
    write_windows_fasta(labels["id"].tolist(), np.frombuffer(b"ACGT", np.uint8)[tokens], tmp_path / "in" / "s.fa.gz")
    outputs = []
    for run, hash_seed in (("a", "1"), ("b", "2")):
        out = tmp_path / run
        encode = [
            "encode",
            "--fasta",
            tmp_path / "in" / "s.fa.gz",
            "--labels",
            tmp_path / "in" / "labels.tsv",
            "--tokens",
            out / "tokens.npy",
            "--meta",
            out / "meta.json",
        ]
        split = [
            "split",
            "--labels",
            tmp_path / "in" / "labels.tsv",
            "--tokens",
            out / "tokens.npy",
            "--split",
            out / "split.tsv",
            "--summary",
            out / "split_summary.json",
            "--settings",
            '{"group_by": "gene"}',
            "--seed",
            "3",
        ]
        calls = " == ".join(f"main({list(map(str, argv))})" for argv in (encode, split))
        script = f"from genomedl.cli import main; assert {calls} == 0"
        subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        outputs.append([(out / name).read_bytes() for name in ("tokens.npy", "split.tsv", "split_summary.json")])
    assert outputs[0] == outputs[1]
    assert (np.load(tmp_path / "a" / "tokens.npy") == tokens).all()
