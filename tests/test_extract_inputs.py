"""Extract inputs: labelled CSV/FASTA and the manifest of local input files (bad inputs: test_bad_inputs.py)."""

from __future__ import annotations

import hashlib
import json

import pysam

from genomedl.cli import main
from genomedl.stages.extract import run_extract
from genomedl.stages.fetch import run_fetch
from genomedl.tables import read_json, read_tsv
from helpers import cli_args

QUIET = dict(log=lambda *a: None)


def write(path, text):
    path.write_text(text)
    return str(path)


def labelled_run(tmp_path, *files, window=None):
    out = tmp_path / "out"
    run_extract(
        out / "s.fa.gz",
        out / "labels.tsv",
        out / "summary.json",
        {"task": "labelled", "window": window or {"length": 8, "mode": "centred"}, "source": {"labelled": list(files)}},
        seed=0,
        **QUIET,
    )
    return read_tsv(out / "labels.tsv"), read_json(out / "summary.json"), out


def test_labelled_csv_keeps_ids_groups_and_predefined_splits(tmp_path):
    csv = write(
        tmp_path / "seqs.csv",
        "id,sequence,label,group,split\na,ACGTACGTAA,pos,g1,train\nb,ttttccccgg,neg,g1,test\nc,GGGGAAAATT,neg,g2,val\n",
    )
    labels, summary, out = labelled_run(tmp_path, csv)
    assert labels["accession"].tolist() == ["a", "b", "c"]
    assert labels[["label", "group", "split"]].values.tolist() == [
        ["pos", "g1", "train"],
        ["neg", "g1", "test"],
        ["neg", "g2", "val"],
    ]
    assert list(labels.columns[:8]) == ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
    assert summary["classes"] == ["neg", "pos"] and summary["bases"]["lowercase"] == 10
    with pysam.FastaFile(str(out / "s.fa.gz")) as fasta:
        assert fasta.fetch(labels["id"][1]) == "TTTCCCCG"  # centred 8 of 10 bp (from 1), upper-cased


def test_labelled_fasta_reads_both_header_forms_and_tiles(tmp_path):
    fasta = write(tmp_path / "seqs.fa", ">s1 label=exon\nACGTACGTAAGTACCT\n>s2|intron\nGGGGCCCCAAAATTTT\n")
    labels, summary, _ = labelled_run(tmp_path, fasta, window={"length": 8, "stride": 8, "longer": "tile"})
    assert labels["label"].tolist() == ["exon", "exon", "intron", "intron"]
    assert labels["start"].tolist() == [0, 8, 0, 8]


def test_reverse_complement_duplicates_collapse_and_conflicts_are_reported(tmp_path):
    csv = write(tmp_path / "seqs.csv", "sequence,label\nAACCGGTA,x\nTACCGGTT,x\nAAAACCCC,x\nGGGGTTTT,y\nCATGCATG,y\n")
    labels, summary, _ = labelled_run(tmp_path, csv)
    assert labels["accession"].tolist() == ["seqs_1", "seqs_5"]
    assert summary["duplicates"]["reverse_complement"] == 2 and summary["duplicates"]["conflicting_groups"] == 1


def test_labelled_source_through_fetch_and_cli(tmp_path):
    csv = write(tmp_path / "seqs.csv", "sequence,label\nACGTACGTAA,a\nGGGGAAAATT,b\n")
    raw = tmp_path / "raw"
    run_fetch(raw / "records.gb.gz", raw / "manifest.tsv", raw / "genes.json", {"source": {"labelled": [csv]}}, **QUIET)
    manifest = read_tsv(raw / "manifest.tsv", dtype=str)
    assert manifest["sha256"].tolist() == [hashlib.sha256((tmp_path / "seqs.csv").read_bytes()).hexdigest()]
    assert manifest["query"].tolist() == [csv]
    out = tmp_path / "out"
    settings = {"source": {"labelled": [csv]}, "task": "labelled", "window": {"length": 10, "mode": "centred"}}
    status = main(
        cli_args(
            "extract",
            settings=json.dumps(settings),
            seed=0,
            fasta=out / "s.fa.gz",
            labels=out / "labels.tsv",
            summary=out / "summary.json",
        )
    )
    assert status == 0 and read_json(out / "summary.json")["class_counts"] == {"a": 1, "b": 1}
