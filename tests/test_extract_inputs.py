"""Extract inputs: malformed GenBank files, labelled CSV/FASTA, the manifest of local input files."""

from __future__ import annotations

import hashlib
import tarfile

import pysam
import pytest
import yaml

from genomedl.cli import main
from genomedl.demo_data import biopython_sdist
from genomedl.errors import GenomedlError
from genomedl.extract import WindowPolicy, run_extract
from genomedl.fetch import run_fetch
from genomedl.tables import read_json, read_tsv

QUIET = dict(log=lambda *a: None)
MALFORMED = ["no_end_marker.gb", "negative_location.gb", "bad_loc_wrap.gb", "invalid_locus_line_spacing.gb",
             "empty_feature_qualifier.gb", "no_origin_no_end.gb", "bad_origin_wrap.gb", "bad_origin_wrap_CDS.gb",
             "bad_origin_wrap_linear.gb", "blank_seq.gb", "invalid_misc_feature.gb", "invalid_product.gb",
             "invalid_structured_comment.gb", "wrong_sequence_indent.gb", "empty_accession.gbk", "protein_refseq.gb"]


@pytest.fixture(scope="module")
def malformed(tmp_path_factory, repo_root):
    """Biopython's deliberately malformed GenBank files, from its sdist (pip download, checksum checked)."""
    settings = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())["demo_data"]
    out = tmp_path_factory.mktemp("malformed")
    with tarfile.open(biopython_sdist(settings["version"], settings["sha256"])) as archive:
        for name in MALFORMED:
            member = archive.extractfile(f"biopython-{settings['version']}/Tests/GenBank/{name}")
            (out / name).write_bytes(member.read())
    return out


def extract_cli(tmp_path, *inputs, task="region", window='{"length": 20, "stride": 10}'):
    out = tmp_path / "out"
    return main(["extract", *inputs, "--task", task, "--window", window, "--fasta", str(out / "s.fa.gz"),
                 "--labels", str(out / "labels.tsv"), "--summary", str(out / "summary.json")]), out


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_genbank_warns_or_stops_with_one_line(malformed, tmp_path, capsys, name):
    status, out = extract_cli(tmp_path, "--records", str(malformed / name))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if status == 0:
        assert read_json(out / "summary.json")["windows"] == len(read_tsv(out / "labels.tsv")) > 0
        assert captured.out.count("warning:") >= (name in ("bad_loc_wrap.gb", "wrong_sequence_indent.gb"))
    else:
        assert status == 2
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("genomedl extract: error: ") and name in lines[0]
        assert not out.exists() or not any(out.iterdir())  # nothing partial
    repeated = [line for line in captured.out.splitlines() if line.startswith("warning:")]
    assert len(repeated) == len(set(repeated))  # one parser warning per kind, not one per line


def write(path, text):
    path.write_text(text)
    return str(path)


def labelled_run(tmp_path, *files, window=None):
    policy = WindowPolicy(**(window or {"length": 8, "mode": "centred"}))
    out = tmp_path / "out"
    run_extract(None, "labelled", policy, out / "s.fa.gz", out / "labels.tsv", out / "summary.json",
                source={"labelled": list(files)}, **QUIET)
    return read_tsv(out / "labels.tsv"), read_json(out / "summary.json"), out


def test_labelled_csv_keeps_ids_groups_and_predefined_splits(tmp_path):
    csv = write(tmp_path / "seqs.csv", "id,sequence,label,group,split\n"
                "a,ACGTACGTAA,pos,g1,train\nb,ttttccccgg,neg,g1,test\nc,GGGGAAAATT,neg,g2,val\n")
    labels, summary, out = labelled_run(tmp_path, csv)
    assert labels["accession"].tolist() == ["a", "b", "c"]
    assert labels[["label", "group", "split"]].values.tolist() == [["pos", "g1", "train"], ["neg", "g1", "test"],
                                                                 ["neg", "g2", "val"]]
    assert list(labels.columns[:8]) == ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
    assert summary["classes"] == ["neg", "pos"] and summary["bases"]["lowercase"] == 10
    with pysam.FastaFile(str(out / "s.fa.gz")) as fasta:
        assert fasta.fetch(labels["id"][1]) == "TTTCCCCG"  # centred 8 of 10 bp (from 1), upper-cased


def test_labelled_fasta_reads_both_header_forms_and_tiles(tmp_path):
    fasta = write(tmp_path / "seqs.fa", ">s1 label=exon\nACGTACGTAAGTACCT\n>s2|intron\nGGGGCCCCAAAATTTT\n")
    labels, summary, _ = labelled_run(tmp_path, fasta, window={"length": 8, "stride": 8})
    assert labels["label"].tolist() == ["exon", "exon", "intron", "intron"]
    assert labels["start"].tolist() == [0, 8, 0, 8]


def test_reverse_complement_duplicates_collapse_and_conflicts_are_reported(tmp_path):
    csv = write(tmp_path / "seqs.csv", "sequence,label\nAACCGGTA,x\nTACCGGTT,x\nAAAACCCC,x\nGGGGTTTT,y\nCATGCATG,y\n")
    labels, summary, _ = labelled_run(tmp_path, csv)
    assert labels["accession"].tolist() == ["seqs_1", "seqs_5"]
    assert summary["duplicates"]["reverse_complement"] == 2 and summary["duplicates"]["conflicting_groups"] == 1


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("sequence,label\n", "no sequences"),
    ("seq,label\nACGT,a\n", "no column 'sequence'"),
    ("id,sequence,label\nx,ACGTACGTAC,a\ny,ACGJACGTAC,b\n", r"line 3 \(y\): invalid character 'J' at position 4"),
    ("id,sequence,label\nx,ACGTACGTAC,a\nx,ACGTACGTAA,b\n", "line 3: duplicate id 'x'"),
    ("id,sequence,label\nx,ACGTACGTAC,a\ny,ACGTACGTAA,a\n", "only class 'a'"),
    ("id,sequence,label\nx,ACGTACGTAC,a\ny,,b\n", "line 3 has no sequence"),
])
def test_bad_labelled_csv_gives_one_clear_line(tmp_path, text, message):
    csv = write(tmp_path / "seqs.csv", text)
    with pytest.raises(GenomedlError, match=message) as caught:
        labelled_run(tmp_path, csv)
    assert "seqs.csv" in str(caught.value) or "only class" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, message", [
    ("", "no sequences"),
    (">s1\nACGTACGT\n", "has no label"),
    (">s1 label=a\nACGT-CGT\n", "invalid character '-'"),
    (">s1 label=a\nACGTACGT\n>s1 label=b\nACGTACGA\n", "duplicate id 's1'"),
])
def test_bad_labelled_fasta_gives_one_clear_line(tmp_path, text, message):
    with pytest.raises(GenomedlError, match=message):
        labelled_run(tmp_path, write(tmp_path / "seqs.fa", text))


def test_labelled_source_through_fetch_and_cli(tmp_path, capsys):
    csv = write(tmp_path / "seqs.csv", "sequence,label\nACGTACGTAA,a\nGGGGAAAATT,b\n")
    raw = tmp_path / "raw"
    run_fetch({"labelled": [csv]}, raw / "records.gb.gz", raw / "manifest.tsv", raw / "genes.json", **QUIET)
    manifest = read_tsv(raw / "manifest.tsv", dtype=str)
    assert manifest["sha256"].tolist() == [hashlib.sha256((tmp_path / "seqs.csv").read_bytes()).hexdigest()]
    assert manifest["query"].tolist() == [csv]
    status, _ = extract_cli(tmp_path, "--source", f'{{"labelled": ["{csv}"]}}', task="exon_intron")
    assert status == 2 and "does not fit a labelled source" in capsys.readouterr().err
    status, out = extract_cli(tmp_path, "--source", f'{{"labelled": ["{csv}"]}}', task="labelled",
                              window='{"length": 10, "mode": "centred"}')
    assert status == 0 and read_json(out / "summary.json")["class_counts"] == {"a": 1, "b": 1}


@pytest.mark.parametrize("annotation, source_extra, message", [
    ("other.gff3", {}, "no sequence has annotation"),
    ("ann.txt", {}, "cannot tell the annotation format"),
    ("other.gff3", {"local": ["x.gb"]}, "mixes genbank and reference"),
])
def test_bad_reference_sources_give_one_clear_line(tmp_path, annotation, source_extra, message):
    (tmp_path / "ref.fa").write_text(">chr1\nACGTACGTACGTACGTACGT\n")
    (tmp_path / annotation).write_text("chrX\tt\tgene\t2\t10\t.\t+\t.\tID=g1\n")
    source = {"reference": {"fasta": str(tmp_path / "ref.fa"), "annotation": str(tmp_path / annotation)},
              **source_extra}
    with pytest.raises(GenomedlError, match=message):
        run_extract(None, "region", WindowPolicy(length=8), tmp_path / "o" / "s.fa.gz", tmp_path / "o" / "l.tsv",
                    tmp_path / "o" / "s.json", source=source, **QUIET)
    assert not (tmp_path / "o").exists()
