"""A reference with several sequences is extracted per group of sequences and gathered (source.reference.group_bp).

Data: the real A. thaliana chromosome 1 slice (arabidopsis_2mb), cut in two at 1 Mb so that the reference has two
sequences; annotation rows are moved to the half they lie in (rows across the cut are dropped). The cut is a
rearrangement of real data, not a synthetic signal.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pysam
import pytest

from genomedl.config import resolve, validate_config
from genomedl.sequence_groups import sequence_groups
from genomedl.stages.extract import run_extract, run_extract_part
from genomedl.tables import read_tsv

CUT = 1_000_000


@pytest.fixture(scope="module")
def two_sequences(arabidopsis_2mb, tmp_path_factory) -> dict:
    """An indexed two-sequence reference (chrA: 0-1 Mb, chrB: 1-2 Mb of the slice) with its GFF3."""
    folder = tmp_path_factory.mktemp("two")
    sequence = "".join(arabidopsis_2mb["fasta"].read_text().splitlines()[1:])
    fasta = folder / "two.fa"
    fasta.write_text(f">chrA\n{sequence[:CUT]}\n>chrB\n{sequence[CUT:]}\n")
    pysam.faidx(str(fasta))
    rows = ["##gff-version 3"]
    for line in arabidopsis_2mb["annotation"].read_text().splitlines():
        fields = line.split("\t")
        if len(fields) != 9:
            continue
        start, end = int(fields[3]), int(fields[4])
        if end <= CUT:
            rows.append("\t".join(["chrA", *fields[1:]]))
        elif start > CUT:
            rows.append("\t".join(["chrB", *fields[1:3], str(start - CUT), str(end - CUT), *fields[5:]]))
    annotation = folder / "two.gff3"
    annotation.write_text("\n".join(rows) + "\n")
    return {"fasta": str(fasta), "annotation": str(annotation)}


def settings(reference: dict, group_bp: int) -> dict:
    return {"source": {"reference": {**reference, "group_bp": group_bp}}, "task": "splice_site"}


def test_groups_pack_sequences_in_file_order(two_sequences):
    assert sequence_groups(two_sequences["fasta"], CUT) == [["chrA"], ["chrB"]]
    assert sequence_groups(two_sequences["fasta"], 2 * CUT) == [["chrA", "chrB"]]
    assert sequence_groups(two_sequences["fasta"], 10) == [["chrA"], ["chrB"]]  # longer than a group: alone


def test_gathered_parts_equal_one_job(two_sequences, tmp_path):
    """Scattered extraction gives byte-identical windows and labels to a single job (same seeds per sequence,
    dedupe over all parts)."""
    whole = tmp_path / "whole"
    n_whole = run_extract(
        whole / "w.fa.gz", whole / "labels.tsv", whole / "summary.json", settings(two_sequences, 10**9), 7
    )
    parts = []
    for part in range(2):
        folder = tmp_path / "parts" / str(part)
        n = run_extract_part(
            folder / "windows.npy",
            folder / "labels.tsv",
            folder / "summary.json",
            settings(two_sequences, CUT),
            7,
            part,
        )
        part_labels = read_tsv(folder / "labels.tsv")
        assert n == len(part_labels) > 1000
        assert set(part_labels["accession"]) == {["chrA", "chrB"][part]}  # each job read its own sequence only
        assert np.load(folder / "windows.npy").shape == (n, 200)
        parts.append(folder)
    gathered = tmp_path / "gathered"
    n_gathered = run_extract(
        gathered / "w.fa.gz",
        gathered / "labels.tsv",
        gathered / "summary.json",
        settings(two_sequences, CUT),
        7,
        parts=parts,
    )
    assert n_gathered == n_whole
    assert (gathered / "labels.tsv").read_text() == (whole / "labels.tsv").read_text()
    with pysam.FastaFile(str(whole / "w.fa.gz")) as a, pysam.FastaFile(str(gathered / "w.fa.gz")) as b:
        assert a.references == b.references
        assert all(a.fetch(name) == b.fetch(name) for name in a.references[::97])
    summary_whole = json.loads((whole / "summary.json").read_text())
    summary_gathered = json.loads((gathered / "summary.json").read_text())
    assert summary_gathered["records"] == summary_whole["records"] == 2
    assert summary_gathered["bases"] == summary_whole["bases"]
    assert summary_gathered["class_counts"] == summary_whole["class_counts"]


def test_part_out_of_range_is_one_line(two_sequences, tmp_path):
    folder = tmp_path / "p"
    done = subprocess.run(
        [sys.executable, "-m", "genomedl", "extract-part", "--part", "5", "--seed", "1"]
        + ["--settings", json.dumps(settings(two_sequences, CUT))]
        + ["--windows", str(folder / "w.npy"), "--labels", str(folder / "l.tsv"), "--summary", str(folder / "s.json")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "part 5 does not exist; its index gives 2 groups" in done.stderr
    assert not folder.exists() or not any(folder.iterdir())


def test_plan_scatters_indexed_references(two_sequences, tmp_path):
    """Indexed now, or indexed by the demo_data rule: scattered (the groups come from a checkpoint, so the plan
    does not change once the index appears); a plain FASTA without index: one job."""
    config = {"datasets": {"two": settings(two_sequences, CUT)}, "models": {"cnn": {"arch": "cnn"}}}
    plan = resolve(validate_config(config))
    assert plan.scattered == ("two",)
    assert plan.extract_inputs["two"] == {"groups": "results/two/extract_parts/groups.json"}
    plain = tmp_path / "plain.fa"
    plain.write_text(open(two_sequences["fasta"]).read())
    config["datasets"]["two"]["source"]["reference"]["fasta"] = str(plain)
    assert resolve(validate_config(config)).scattered == ()
    config["demo_data"] = {"version": "1", "sha256": "0" * 64, "files": ["plain.fa"], "out_dir": str(tmp_path)}
    assert resolve(validate_config(config)).scattered == ("two",)


def test_workflow_runs_one_job_per_group(two_sequences, tmp_path):
    """The real snakemake: a checkpoint reads the index, two extract_part jobs, one gathering extract; the parts are
    temporary, and a second run has nothing to do."""
    import yaml

    from helpers import copy_workflow, planned_jobs, snakemake

    workdir = tmp_path / "run"
    workdir.mkdir()
    copy_workflow(workdir)
    config = {"seed": 3, "datasets": {"two": settings(two_sequences, CUT)}, "models": {"cnn": {"arch": "cnn"}}}
    (workdir / "two.yaml").write_text(yaml.safe_dump(config))
    target = ("results/two/labels.tsv", "--configfile", "two.yaml")
    assert planned_jobs(workdir, *target) == {"extract_groups": 1, "extract": 1}
    snakemake(workdir, *target)
    labels = read_tsv(workdir / "results/two/labels.tsv")
    assert set(labels["accession"]) == {"chrA", "chrB"}
    assert json.loads((workdir / "results/two/extract_parts/groups.json").read_text()) == [["chrA"], ["chrB"]]
    assert not list((workdir / "results/two").glob("extract_parts/*/windows.npy"))
    assert "extract part 1:" in (workdir / "logs/two/extract_part/1.log").read_text()
    assert planned_jobs(workdir, *target) == {}
