"""Bad-input corpus: each case is one bad input driven through the entry point a user hits.

A rejected input ends with exit status 2 and exactly one line on stderr that names the file, record or
config key at fault and says what to do; no traceback, no Python warning, and nothing (not even a temporary
file) at the failing stage's outputs. The line each case prints is tabulated in tests/README.md; every case
checks its line against that table, so the two cannot drift apart.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import tarfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pysam
import pytest
import yaml
from Bio import BiopythonParserWarning, SeqIO

from genomedl.cli import main
from genomedl.stages.demo_data import biopython_sdist
from genomedl.tables import read_tsv, write_tsv
from helpers import EMAIL, REPO, cli_args, copy_workflow, demo_settings, snakemake, write_synthetic_dataset

HOSTILE = "<script>alert(1)</script>"
WARNINGS = ("warning: ", "note: ")
REGION = '{"length": 20, "stride": 10}'
CENTRED = '{"length": 8, "mode": "centred"}'

# Biopython 1.88's Tests/GenBank files that its own tests treat as malformed (parse errors, parser warnings,
# files its comments call junk, a FASTA file read as GenBank) -> the stage that stops it; None: accepted with
# one warning line per kind. Fetch reads source.local files; extract (task region) reads what fetch accepted.
MALFORMED = {
    "1MRR_A.gp": "fetch",
    "NC_000932.faa": "fetch",
    "addgene-plasmid-11664-sequence-180430.gbk": None,
    "addgene-plasmid-39296-sequence-49545.gbk": None,
    "bad_loc_wrap.gb": None,
    "bad_origin_wrap.gb": "fetch",
    "bad_origin_wrap_CDS.gb": "extract",
    "bad_origin_wrap_fuzzy.gb": "extract",
    "bad_origin_wrap_linear.gb": "fetch",
    "blank_seq.gb": "fetch",
    "dbsource_wrap.gb": "fetch",
    "empty_accession.gbk": "extract",
    "empty_feature_qualifier.gb": "extract",
    "empty_version.gbk": "extract",
    "invalid_locus_line_spacing.gb": "extract",
    "invalid_misc_feature.gb": "extract",
    "invalid_product.gb": "fetch",
    "invalid_structured_comment.gb": "fetch",
    "negative_location.gb": "extract",
    "no_end_marker.gb": "fetch",
    "no_origin_no_end.gb": "fetch",
    "noref_date_warning.gb": "extract",
    "protein_refseq.gb": "fetch",
    "protein_refseq2.gb": "fetch",
    "qualifier_escaping_read.gb": "fetch",
    "wrong_sequence_indent.gb": "extract",
}


# ... of which these parse without error or parser warning, yet Biopython's tests single them out: a FASTA file
# that GenBank.read must reject, empty ACCESSION/VERSION lines, protein and "junky" RefSeq files, a blank sequence
# without a sequence type, an empty feature qualifier
NAMED_BY_TESTS = {
    "NC_000932.faa",
    "empty_accession.gbk",
    "empty_version.gbk",
    "protein_refseq.gb",
    "protein_refseq2.gb",
    "dbsource_wrap.gb",
    "blank_seq.gb",
    "empty_feature_qualifier.gb",
}


def genbank_id(name: str) -> str:
    return "genbank_" + re.sub(r"\W", "_", name.rsplit(".", 1)[0])


# --- stage cases: (id, input files {name: text}, argv builder (in_dir, out_dir) -> argv, what the line names) ----


def extract_argv(
    out: Path, source: dict, *records_args: str, task: str = "labelled", window: str = CENTRED
) -> list[str]:
    settings = json.dumps({"task": task, "window": json.loads(window)} | ({"source": source} if source else {}))
    return cli_args(
        "extract",
        *records_args,
        settings=settings,
        seed=0,
        fasta=out / "s.fa.gz",
        labels=out / "labels.tsv",
        summary=out / "summary.json",
    )


def labelled(*names: str, **options):
    return lambda inp, out: extract_argv(out, {"labelled": [str(inp / n) for n in names]}, **options)


def reference(annotation: str, **extra):
    def argv(inp, out):
        source = {"reference": {"fasta": str(inp / "ref.fa"), "annotation": str(inp / annotation)}, **extra}
        return extract_argv(out, source, task="region")

    return argv


def fetch_argv(out: Path, source: dict, ncbi: dict | None = None) -> list[str]:
    return [
        "fetch",
        "--settings",
        json.dumps({"source": source, "ncbi": ncbi or {}}),
        "--records",
        str(out / "records.gb.gz"),
        "--manifest",
        str(out / "manifest.tsv"),
        "--genes",
        str(out / "genes.json"),
    ]


REF = ">chr1\nACGTACGTACGTACGTACGT\n"
GFF = "chrX\tt\tgene\t2\t10\t.\t+\t.\tID=g1\n"
STAGE_CASES = [
    (
        "csv_invalid_character",
        {"seqs.csv": "id,sequence,label\nx,ACGTACGTAC,a\ny,ACGJACGTAC,b\n"},
        labelled("seqs.csv"),
        "seqs.csv: line 3 (y)",
    ),
    (
        "fasta_invalid_character",
        {"seqs.fa": ">s1 label=a\nACGT-CGT\n>s2 label=b\nACGTACGA\n"},
        labelled("seqs.fa"),
        "seqs.fa: sequence 1 (s1)",
    ),
    (
        "csv_empty_sequence",
        {"seqs.csv": "id,sequence,label\nx,ACGTACGTAC,a\ny,,b\n"},
        labelled("seqs.csv"),
        "seqs.csv: line 3",
    ),
    (
        "fasta_empty_sequence",
        {"seqs.fa": ">s1 label=a\nACGTACGT\n>s2 label=b\n>s3 label=b\nACGTTTGT\n"},
        labelled("seqs.fa"),
        "seqs.fa: sequence 2",
    ),
    (
        "csv_duplicate_id",
        {"seqs.csv": "id,sequence,label\nx,ACGTACGTAC,a\nx,ACGTACGTAA,b\n"},
        labelled("seqs.csv"),
        "seqs.csv: line 3: duplicate id 'x'",
    ),
    (
        "fasta_duplicate_id",
        {"seqs.fa": ">s1 label=a\nACGTACGT\n>s1 label=b\nACGTACGA\n"},
        labelled("seqs.fa"),
        "seqs.fa: sequence 2: duplicate id 's1'",
    ),
    ("csv_missing_column", {"seqs.csv": "seq,label\nACGT,a\n"}, labelled("seqs.csv"), "seqs.csv"),
    ("fasta_without_label", {"seqs.fa": ">s1\nACGTACGT\n"}, labelled("seqs.fa"), "seqs.fa: sequence 1 (s1)"),
    ("empty_csv", {"seqs.csv": ""}, labelled("seqs.csv"), "seqs.csv"),
    ("empty_csv_header_only", {"seqs.csv": "sequence,label\n"}, labelled("seqs.csv"), "seqs.csv"),
    ("empty_fasta", {"seqs.fa": ""}, labelled("seqs.fa"), "seqs.fa"),
    (
        "empty_genbank",
        {"empty.gb": ""},
        lambda inp, out: fetch_argv(out, {"local": [str(inp / "empty.gb")]}),
        "empty.gb",
    ),
    ("one_class", {"seqs.csv": "sequence,label\nACGTACGTAC,exon\nGGGTACGTAA,exon\n"}, labelled("seqs.csv"), "seqs.csv"),
    (
        "csv_blank_split",
        {"seqs.csv": "id,sequence,label,split\nx,ACGTACGTAC,a,train\ny,ACGTACGTAA,b, \n"},
        labelled("seqs.csv"),
        "seqs.csv: line 3 (y)",
    ),
    (
        "csv_unknown_split",
        {"seqs.csv": "id,sequence,label,split\nx,ACGTACGTAC,a,train\ny,ACGTACGTAA,b,holdout\n"},
        labelled("seqs.csv"),
        "seqs.csv: line 3 (y)",
    ),
    (
        "csv_not_utf8",
        {"seqs.csv": "sequence,label\nACGTACGTAC,caf\xe9\n".encode("latin-1")},
        labelled("seqs.csv"),
        "seqs.csv",
    ),
    (
        "labelled_all_shorter_dropped",
        {"seqs.csv": "sequence,label\nACGTACGTAC,a\nGGGTACGTAA,b\n"},
        labelled("seqs.csv", window='{"length": 20, "shorter": "drop"}'),
        "seqs.csv",
    ),
    (
        "labelled_source_with_genbank_task",
        {"seqs.csv": "sequence,label\nACGTACGTAA,a\nGGGGAAAATT,b\n"},
        labelled("seqs.csv", task="exon_intron"),
        "datasets.<name>.task",
    ),
    ("reference_names_do_not_match", {"ref.fa": REF, "other.gff3": GFF}, reference("other.gff3"), "ref.fa"),
    ("reference_unknown_annotation_format", {"ref.fa": REF, "ann.txt": GFF}, reference("ann.txt"), "ann.txt"),
    (
        "source_mixes_kinds",
        {"ref.fa": REF, "other.gff3": GFF},
        reference("other.gff3", local=["x.gb"]),
        "datasets.<name>.source",
    ),
]
ACCEPTED = {  # stage cases that are accepted: (input files, argv builder)
    "csv_script_id": (
        {"seqs.csv": f"id,sequence,label\n{HOSTILE},ACGTACGTAA,a\nb,GGGGAAAATT,b\n"},
        labelled("seqs.csv"),
    ),
    "fasta_script_header": (
        {"seqs.fa": f">{HOSTILE} label=a\nACGTACGTAA\n>b label=b\nGGGGAAAATT\n"},
        labelled("seqs.fa"),
    ),
}
CONFIG_CASES = {  # dry runs of the workflow with one change to the demo config -> the config key named
    "config_unknown_key": (lambda c: c["datasets"]["demo"]["window"].update(lenght=100), "datasets.demo.window"),
    "config_wrong_type": (
        lambda c: c["datasets"]["demo"]["window"].update(length="long"),
        "datasets.demo.window.length",
    ),
    "config_missing_source": (lambda c: c["datasets"]["demo"].pop("source"), "datasets.demo"),
    "config_unknown_task": (lambda c: c["datasets"]["demo"].update(task="exon_intronn"), "datasets.demo.task"),
    "config_unknown_arch": (lambda c: c["models"]["cnn"].update(arch="cnnn"), "models.cnn.arch"),
    "config_unknown_hyperparameter": (lambda c: c["models"]["cnn"].update(filterz=[32, 32]), "models.cnn"),
    "config_labelled_file_missing": (
        lambda c: c["datasets"]["demo"].update(source={"labelled": ["data/missing.csv"]}, task="labelled"),
        "datasets.demo.source.labelled",
    ),
}


def tab_indented(text: str) -> str:
    """A config's text with one line indented by a tab (an editor's doing), which YAML does not allow."""
    return text.replace("    task: exon_intron", "\ttask: exon_intron", 1)


CONFIG_TEXT_CASES = {  # dry runs of the workflow with the demo config's text edited -> how the line begins
    "config_yaml_syntax_error": (tab_indented, "config/config.yaml: line 26, column 1: ")
}
CHECK_CONFIG_CASES = {  # genomedl check-config on a --configfile that Snakemake reads itself -> what the line names
    "configfile_not_found": (None, "my.yaml"),
    "configfile_yaml_syntax_error": (tab_indented, "my.yaml: line 26, column 1: "),
}
OTHER_CASES = [
    "genbank_without_features_of_the_task",
    "window_longer_than_every_record",
    "class_with_fewer_examples_than_splits",
    "unknown_accession",
]


# --- the table in tests/README.md ------------------------------------------------------------------------------


@functools.cache
def corpus_table() -> dict[str, dict]:
    """Rows of the corpus table in tests/README.md by case id (cells unescaped, code backticks removed)."""
    lines = (REPO / "tests" / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| case id |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().replace("\\|", "|").strip("`") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def assert_prints_tabled_line(case_id: str, lines: list[str]) -> str:
    """The one of ``lines`` that matches the case's line in tests/README.md ('…' stands for any text)."""
    pattern = ".*".join(map(re.escape, corpus_table()[case_id]["the exact line the tool prints"].split("…")))
    found = [line for line in lines if re.fullmatch(pattern, line)]
    assert found, f"{case_id}: no line matches tests/README.md's {pattern!r}; printed:\n" + "\n".join(lines)
    return found[0]


def run_cli(argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    """``genomedl <argv>`` in-process: (exit status, stdout lines, stderr lines). A Python warning counts as
    a stderr line, as it would be one outside pytest."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(argv)
    captured = capsys.readouterr()
    shown = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, ResourceWarning))
    ]
    return status, captured.out.splitlines(), captured.err.splitlines() + shown


def assert_one_clear_line(
    case_id: str, command: str, status: int, out: list[str], err: list[str], fault: str, output_dir: Path
) -> None:
    assert status == 2, (status, err)
    errors = [line for line in err if not line.startswith(WARNINGS)]  # warnings of a repaired record may precede
    assert len(errors) == 1 and err[-1] == errors[0], err
    assert not any("Traceback" in line for line in out + err)
    line = assert_prints_tabled_line(case_id, errors)
    assert line.startswith(f"genomedl {command}: error: ") and fault in line and "; " in line, line
    assert not output_dir.exists() or not any(output_dir.rglob("*")), sorted(output_dir.rglob("*"))


def assert_no_temporary_files(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.startswith(".")], sorted(folder.rglob(".*"))


def write_inputs(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text) if isinstance(text, bytes) else (folder / name).write_text(text)
    return folder


# --- malformed GenBank files from Biopython's test suite -------------------------------------------------------


@pytest.fixture(scope="module")
def biopython_tests(tmp_path_factory) -> Path:
    """Biopython's Tests/GenBank folder, from the sdist the demo uses (pip download, checksum checked)."""
    settings, out = demo_settings(), tmp_path_factory.mktemp("biopython_tests")
    prefix = f"biopython-{settings['version']}/Tests/GenBank/"
    with tarfile.open(biopython_sdist(settings["version"], settings["sha256"])) as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith(prefix) and "/" not in member.name[len(prefix) :]:
                (out / member.name[len(prefix) :]).write_bytes(archive.extractfile(member).read())
    return out


def test_corpus_has_every_genbank_file_biopython_cannot_read_cleanly(biopython_tests):
    """The files that Biopython's parser rejects or warns about are exactly MALFORMED less NAMED_BY_TESTS."""
    flagged = set()
    for path in sorted(biopython_tests.iterdir()):
        if path.suffix == ".bgz":  # bgzipped copies of cor6_6.gb and NC_000932.gb
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BiopythonParserWarning)
            try:
                list(SeqIO.parse(path, "genbank"))
            except ValueError:
                flagged.add(path.name)
        if any(issubclass(w.category, BiopythonParserWarning) for w in caught):
            flagged.add(path.name)
    assert flagged == set(MALFORMED) - NAMED_BY_TESTS, sorted(flagged ^ (set(MALFORMED) - NAMED_BY_TESTS))


@pytest.mark.parametrize("name", list(MALFORMED), ids=[genbank_id(n) for n in MALFORMED])
def test_malformed_genbank(biopython_tests, tmp_path, capsys, name):
    raw, out = tmp_path / "raw", tmp_path / "out"
    status, stdout, err = run_cli(fetch_argv(raw, {"local": [str(biopython_tests / name)]}), capsys)
    stage = "fetch"
    if status == 0:
        stage = "extract"
        status, more, more_err = run_cli(
            extract_argv(out, {}, "--records", str(raw / "records.gb.gz"), task="region", window=REGION), capsys
        )
        stdout, err = stdout + more, err + more_err
    warned = [line for line in err if line.startswith("warning: ")]
    assert len(warned) == len(set(warned))  # one line per parser warning, not one per line of the file
    assert not any(line.startswith(WARNINGS) for line in stdout)  # warnings and notes go to stderr
    if MALFORMED[name] is None:
        assert status == 0 and all(line.startswith(WARNINGS) for line in err), err
        parser = [w for w in warned if "windows dropped" not in w]
        assert any(f"{name}: record 1: " in line for line in parser) and all("record 1: " in w for w in parser)
        assert_prints_tabled_line(genbank_id(name), err)
        assert read_tsv(out / "labels.tsv")["accession"].nunique() == 1
    else:
        assert stage == MALFORMED[name], (stage, err)
        fault = name if stage == "fetch" else "records.gb.gz"
        assert_one_clear_line(genbank_id(name), stage, status, stdout, err, fault, raw if stage == "fetch" else out)
    assert_no_temporary_files(tmp_path)


# --- labelled, reference and GenBank inputs at one stage ---------------------------------------------------------


@pytest.mark.parametrize("case_id, files, argv, fault", STAGE_CASES, ids=[c[0] for c in STAGE_CASES])
def test_bad_stage_input(tmp_path, capsys, case_id, files, argv, fault):
    out = tmp_path / "out"
    command = argv(write_inputs(tmp_path / "in", files), out)
    status, stdout, err = run_cli(command, capsys)
    assert_one_clear_line(case_id, command[0], status, stdout, err, fault, out)


@pytest.mark.parametrize("case_id", list(ACCEPTED))
def test_script_in_an_id_is_kept_verbatim(tmp_path, capsys, case_id):
    """Chosen side: markup in a sequence id is accepted as data, kept byte for byte in labels.tsv and the
    FASTA; the HTML report escapes it (tests/test_browser.py loads such ids in a real browser)."""
    files, argv = ACCEPTED[case_id]
    out = tmp_path / "out"
    status, stdout, err = run_cli(argv(write_inputs(tmp_path / "in", files), out), capsys)
    assert status == 0 and not err, err
    assert_prints_tabled_line(case_id, stdout)
    labels = read_tsv(out / "labels.tsv", dtype=str)
    assert HOSTILE in labels["accession"].tolist()
    hostile_ids = labels["id"][labels["accession"] == HOSTILE].tolist()
    with pysam.FastaFile(str(out / "s.fa.gz")) as fasta:
        assert [name for name in fasta.references if name.startswith(HOSTILE)] == hostile_ids
    assert_no_temporary_files(out)


@pytest.fixture(scope="module")
def demo_records(biopython_tests, tmp_path_factory) -> Path:
    """records.gb.gz fetched from the demo's five GenBank files."""
    raw = tmp_path_factory.mktemp("demo_raw")
    local = [str(biopython_tests / Path(f).name) for f in demo_settings()["files"]]
    assert main(fetch_argv(raw, {"local": local})) == 0
    return raw / "records.gb.gz"


def test_window_longer_than_every_record(demo_records, tmp_path, capsys):
    """200 kb windows: longer than the longest demo record (NC_000932.1, 154,478 bp)."""
    out = tmp_path / "out"
    status, stdout, err = run_cli(
        extract_argv(
            out, {}, "--records", str(demo_records), task="exon_intron", window='{"length": 200000, "stride": 100}'
        ),
        capsys,
    )
    assert_one_clear_line("window_longer_than_every_record", "extract", status, stdout, err, "records.gb.gz", out)


def test_genbank_without_features_of_the_task(biopython_tests, tmp_path, capsys):
    """noref.gb, a real mRNA record: nothing spliced, so task exon_intron finds nothing to label."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    assert run_cli(fetch_argv(raw, {"local": [str(biopython_tests / "noref.gb")]}), capsys)[0] == 0
    status, stdout, err = run_cli(
        extract_argv(
            out,
            {},
            "--records",
            str(raw / "records.gb.gz"),
            task="exon_intron",
            window='{"length": 200, "stride": 100}',
        ),
        capsys,
    )
    assert_one_clear_line("genbank_without_features_of_the_task", "extract", status, stdout, err, "records.gb.gz", out)


def test_class_with_fewer_examples_than_splits(tmp_path, capsys):
    """Two windows of class 'b' (two records) cannot reach train, val and test: one line names the class."""
    data = write_synthetic_dataset(tmp_path / "data", n=60, length=20)
    labels = read_tsv(data["labels"])
    labels["label"] = np.where(labels.index < 2, "b", "a")
    labels["accession"] = [f"REC{i}" for i in range(len(labels))]
    write_tsv(labels, data["labels"])
    out = tmp_path / "out"
    status, stdout, err = run_cli(
        [
            "split",
            "--labels",
            str(data["labels"]),
            "--tokens",
            str(data["tokens"]),
            "--split",
            str(out / "split.tsv"),
            "--summary",
            str(out / "summary.json"),
            "--settings",
            '{"val": 0.15, "test": 0.15}',
            "--seed",
            "1",
        ],
        capsys,
    )
    assert_one_clear_line("class_with_fewer_examples_than_splits", "split", status, stdout, err, "class 'b'", out)
    assert "labels.tsv" in err[0]


def test_unknown_accession(server, fake, tmp_path, capsys):
    """An accession NCBI does not have (loopback E-utilities server): asked again alone, then one line."""
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    ncbi = {"email": EMAIL, "base_url": server.base_url, "max_rps": 100, "cache_dir": str(cache)}
    status, stdout, err = run_cli(fetch_argv(raw, {"accessions": ["NG_012337.1", "NX_999999.1"]}, ncbi), capsys)
    assert_one_clear_line("unknown_accession", "fetch", status, stdout, err, "NX_999999.1", raw)
    assert [s.params["id"] for s in fake.seen("efetch")] == ["NG_012337.1,NX_999999.1", "NX_999999.1", "NX_999999.1"]
    assert not list(cache.rglob("NX_999999*")) and not list(cache.rglob("*.tmp"))


# --- real records cut or altered to make the flaw (../shared/data) ------------------------------------------------

VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def real_reference(shared: Path, inp: Path, sequence_end: int | None = None) -> tuple[Path, Path]:
    """NG_012337.1's FASTA (cut to ``sequence_end`` bp) and its GFF3, copied into ``inp``."""
    name, _, sequence = (shared / "gff" / "NG_012337.1.fasta").read_text().partition("\n")
    bases = sequence.replace("\n", "")[:sequence_end]
    fasta, gff = inp / "ref.fa", inp / "ann.gff3"
    fasta.write_text(name.split()[0] + "\n" + "\n".join(bases[i : i + 70] for i in range(0, len(bases), 70)) + "\n")
    gff.write_text((shared / "gff" / "NG_012337.1.gff3").read_text())
    return fasta, gff


def extract_reference(out: Path, fasta: Path, annotation: Path, task: str = "region") -> list[str]:
    return extract_argv(out, {"reference": {"fasta": str(fasta), "annotation": str(annotation)}}, task=task)


def gff_rows(gff: Path) -> list[list[str]]:
    return [line.split("\t") for line in gff.read_text().splitlines() if line and not line.startswith("#")]


def origin_shorter_than_locus(shared, inp, out, model):
    text = (shared / "genbank" / "NG_012337.1.gb").read_text()
    head, origin = text.split("\nORIGIN", 1)
    lines = origin.splitlines()
    (inp / "cut.gb").write_text(head + "\nORIGIN" + "\n".join(lines[:50] + ["//"]) + "\n")
    return fetch_argv(out, {"local": [str(inp / "cut.gb")]})


def stale_fai(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp, 8000)
    packed = inp / "ref.fa.gz"
    pysam.tabix_compress(str(fasta), str(packed))
    pysam.faidx(str(packed))
    real_reference(shared, inp)  # the FASTA downloaded again and bgzipped, the old index left beside it
    pysam.tabix_compress(str(fasta), str(packed), force=True)
    os.utime(packed, (time.time() + 10, time.time() + 10))
    return extract_reference(out, packed, gff)


def fai_of_other_file(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp, 8000)
    pysam.faidx(str(fasta))
    real_reference(shared, inp)
    os.utime(Path(f"{fasta}.fai"), (time.time() + 5, time.time() + 5))  # newer, yet of the cut file
    return extract_reference(out, fasta, gff)


def features_past_the_end(shared, inp, out, model):
    return extract_reference(out, *real_reference(shared, inp, 8000))


def seqids_chr_style(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp)
    gff.write_text(gff.read_text().replace("NG_012337.1\t", "chr11\t"))
    return extract_reference(out, fasta, gff)


def reference_plain_gzip(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp)
    packed = inp / "ref.fa.gz"
    packed.write_bytes(gzip.compress(fasta.read_bytes()))
    pysam.faidx(str(fasta))
    Path(f"{fasta}.fai").rename(f"{packed}.fai")
    return extract_reference(out, packed, gff)


def bed6_for_region(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp)
    rows = [r for r in gff_rows(gff) if r[2] == "mRNA"]
    (inp / "ann.bed").write_text(
        "".join(f"{r[0]}\t{int(r[3]) - 1}\t{r[4]}\ttx{i}\t0\t{r[6]}\n" for i, r in enumerate(rows))
    )
    return extract_reference(out, fasta, inp / "ann.bed")


def gtf_without_transcript_id(shared, inp, out, model):
    fasta, gff = real_reference(shared, inp)
    rows = [r for r in gff_rows(gff) if r[2] in ("exon", "CDS")]
    (inp / "ann.gtf").write_text("".join("\t".join(r[:8]) + '\tgene_id "g1";\n' for r in rows))
    return extract_reference(out, fasta, inp / "ann.gtf")


def predict_on(model, out, kind: str, data: Path, reference: Path | None = None) -> list[str]:
    options = {"reference": reference} if reference else {}
    return cli_args("predict", model_dir=model, out_dir=out, **{kind: data}, **options)


def indexed_reference(shared, inp) -> Path:
    fasta, _ = real_reference(shared, inp)
    pysam.faidx(str(fasta))
    return fasta


def predict_reference_plain_gzip(shared, inp, out, model):
    fasta = indexed_reference(shared, inp)
    packed = inp / "ref.fa.gz"
    packed.write_bytes(gzip.compress(fasta.read_bytes()))
    Path(f"{fasta}.fai").rename(f"{packed}.fai")
    (inp / "r.bed").write_text("NG_012337.1\t100\t400\n")
    return predict_on(model, out, "bed", inp / "r.bed", packed)


def vcf_plain_gzip(shared, inp, out, model):
    fasta = indexed_reference(shared, inp)
    (inp / "v.vcf.gz").write_bytes(gzip.compress((VCF_HEADER + "NG_012337.1\t500\t.\tG\tA\t.\t.\t.\n").encode()))
    return predict_on(model, out, "vcf", inp / "v.vcf.gz", fasta)


def vcf_of_text(text: str):
    """A case that predicts on ``v.vcf`` holding ``text``, against the indexed real reference."""

    def case(shared, inp, out, model):
        fasta = indexed_reference(shared, inp)
        (inp / "v.vcf").write_text(text)
        return predict_on(model, out, "vcf", inp / "v.vcf", fasta)

    return case


vcf_without_header = vcf_of_text("NG_012337.1\t500\t.\tG\tA\t.\t.\t.\n")
vcf_contigs_not_in_reference = vcf_of_text(VCF_HEADER + "chr11\t500\t.\tG\tA\t.\t.\t.\nchr11\t900\t.\tG\tA\t.\t.\t.\n")


def bed_contigs_not_in_reference(shared, inp, out, model):
    fasta = indexed_reference(shared, inp)
    (inp / "r.bed").write_text("chr11\t100\t400\nchr11\t900\t1200\n")
    return predict_on(model, out, "bed", inp / "r.bed", fasta)


def vcf_of_another_reference(shared, inp, out, model):
    fasta = indexed_reference(shared, inp)
    with pysam.FastaFile(str(fasta)) as ref:
        bases = ref.fetch("NG_012337.1", 0, 2000)
    wrong = {"A": "C", "C": "G", "G": "T", "T": "A"}
    rows = [f"NG_012337.1\t{p + 1}\t.\t{wrong[bases[p]]}\t{bases[p]}\t.\t.\t.\n" for p in range(100, 1100, 100)]
    (inp / "v.vcf").write_text(VCF_HEADER + "".join(rows))
    return predict_on(model, out, "vcf", inp / "v.vcf", fasta)


def csv_latin1(shared, inp, out, model):
    """Real DeepBind CTCFL sequences with French labels, saved by a spreadsheet in Latin-1 ('lié' holds 0xe9)."""
    rows = [line.split(",") for line in (shared / "deepbind_tfbs" / "CTCFL" / "train.csv").read_text().splitlines()]
    words = {"1": "lié", "0": "libre"}
    text = "sequence,label\n" + "".join(f"{seq},{words[label]}\n" for seq, label in rows[2:42])
    (inp / "seqs.csv").write_bytes(text.encode("latin-1"))
    return extract_argv(out, {"labelled": [str(inp / "seqs.csv")]})


def genbank_text(shared: Path, accession: str) -> str:
    return (shared / "genbank" / f"{accession}.gb").read_text()


def truncated_before_next_record(shared, inp, out, model):
    """NG_012337.1 cut in its ORIGIN (a download that stopped), then the whole NM_003002.2 appended."""
    first = genbank_text(shared, "NG_012337.1")
    cut = first[: first.index("\nORIGIN") + 3000].rsplit("\n", 1)[0] + "\n"
    (inp / "two.gb").write_text(cut + genbank_text(shared, "NM_003002.2"))
    return fetch_argv(out, {"local": [str(inp / "two.gb")]})


def invalid_base_in_second_record(shared, inp, out, model):
    """NG_012337.1, then NM_003002.2 with base 123 (line 3 of its ORIGIN) changed to 'j'."""
    head, origin = genbank_text(shared, "NM_003002.2").split("\nORIGIN", 1)
    lines = origin.split("\n")
    lines[3] = lines[3][:12] + "j" + lines[3][13:]
    (inp / "multi.gb").write_text(genbank_text(shared, "NG_012337.1") + head + "\nORIGIN" + "\n".join(lines))
    return fetch_argv(out, {"local": [str(inp / "multi.gb")]})


def vcf_partly_on_other_contigs(shared, inp) -> tuple[Path, Path]:
    """A VCF of 3 SNVs on NG_012337.1 (REF as in the genome) and 3 on contigs the reference lacks (chrM, an
    alternate contig), as in a genome-wide call set; with the indexed real reference."""
    fasta = indexed_reference(shared, inp)
    with pysam.FastaFile(str(fasta)) as ref:
        bases = ref.fetch("NG_012337.1", 0, 2000)
    alt = {"A": "G", "C": "T", "G": "A", "T": "C"}
    rows = [f"NG_012337.1\t{p + 1}\t.\t{bases[p]}\t{alt[bases[p]]}\t.\t.\t.\n" for p in (500, 900, 1500)]
    rows += ["chrM\t100\t.\tA\tG\t.\t.\t.\n", "chrM\t7000\t.\tC\tT\t.\t.\t.\n"]
    rows += ["chr1_KI270706v1_random\t50\t.\tG\tA\t.\t.\t.\n"]
    (inp / "v.vcf").write_text(VCF_HEADER + "".join(rows))
    return inp / "v.vcf", fasta


def vcf_unknown_contigs_stop(shared, inp, out, model):
    vcf, fasta = vcf_partly_on_other_contigs(shared, inp)
    return predict_on(model, out, "vcf", vcf, fasta) + ["--unknown-contigs", "stop"]


REAL_CASES = {  # id -> (builder (shared data, input folder, output folder, model folder) -> argv, what the line names)
    "genbank_origin_shorter_than_locus": (origin_shorter_than_locus, "cut.gb: record 1 (NG_012337.1)"),
    "reference_stale_fai": (stale_fai, "ref.fa.gz.fai"),
    "reference_fai_of_another_file": (fai_of_other_file, "ref.fa.fai"),
    "reference_features_past_the_end": (features_past_the_end, "ann.gff3"),
    "reference_seqids_chr_style": (seqids_chr_style, "chr11 (closest: NG_012337.1)"),
    "reference_fasta_plain_gzip": (reference_plain_gzip, "ref.fa.gz"),
    "reference_bed6_where_bed12_needed": (bed6_for_region, "ann.bed"),
    "reference_gtf_without_transcript_id": (gtf_without_transcript_id, "ann.gtf"),
    "predict_reference_plain_gzip": (predict_reference_plain_gzip, "ref.fa.gz"),
    "predict_vcf_plain_gzip": (vcf_plain_gzip, "v.vcf.gz"),
    "predict_vcf_without_header": (vcf_without_header, "v.vcf"),
    "predict_vcf_contigs_not_in_reference": (vcf_contigs_not_in_reference, "v.vcf"),
    "predict_bed_contigs_not_in_reference": (bed_contigs_not_in_reference, "r.bed"),
    "predict_vcf_of_another_reference": (vcf_of_another_reference, "v.vcf"),
    "csv_latin1": (csv_latin1, "seqs.csv: line 3, column 105"),
    "genbank_truncated_before_next_record": (truncated_before_next_record, "two.gb: record 1 (NG_012337.1)"),
    "genbank_invalid_base_in_second_record": (invalid_base_in_second_record, "multi.gb: record 2 (NM_003002.2)"),
    "predict_vcf_unknown_contigs_stop": (vcf_unknown_contigs_stop, "v.vcf"),
}


@pytest.mark.parametrize("case_id", list(REAL_CASES))
def test_real_input_flaw(shared_data, model_dir, tmp_path, capsys, case_id):
    build, fault = REAL_CASES[case_id]
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    argv = build(shared_data, inp, out, model_dir)
    status, stdout, err = run_cli(argv, capsys)
    assert_one_clear_line(case_id, argv[0], status, stdout, err, fault, out)
    assert len(err) == 1, err  # one line: no warning about the very record that is refused
    assert_no_temporary_files(tmp_path)


# --- real inputs with a flaw that is reported and worked around: one warning line, complete outputs --------------


def reference_partly_named(shared, inp, out, model):
    """An indexed FASTA of NG_012337.1 and NG_009930.1, each its own group (source.reference.group_bp), with an
    annotation of NG_012337.1 plus rows on NG_007485.1 and chrM that the FASTA lacks: the workflow's path for an
    indexed reference (extract-groups, one extract-part job per group, then extract gathers)."""
    fasta, gff = real_reference(shared, inp)
    fasta.write_text(fasta.read_text() + (shared / "gff" / "NG_009930.1.fasta").read_text())
    pysam.faidx(str(fasta))
    rows = gff_rows(shared / "gff" / "NG_007485.1.gff3")
    other = ["\t".join(r) for r in rows] + ["\t".join(["chrM", *r[1:]]) for r in rows[:5]]
    gff.write_text(gff.read_text() + "\n".join(other) + "\n")
    source = {"reference": {"fasta": str(fasta), "annotation": str(gff), "group_bp": 1000}}
    settings = json.dumps({"task": "region", "window": json.loads(CENTRED), "source": source})
    assert main(["extract-groups", "--settings", settings, "--groups", str(inp / "parts" / "groups.json")]) == 0
    parts = [inp / "parts" / str(part) for part in range(2)]
    for part, folder in enumerate(parts):
        files = {name: str(folder / name) for name in ("windows.npy", "labels.tsv", "summary.json")}
        argv = cli_args("extract-part", part=part, settings=settings, seed=0, windows=files["windows.npy"])
        assert main(argv + ["--labels", files["labels.tsv"], "--summary", files["summary.json"]]) == 0
    extract = cli_args("extract", settings=settings, seed=0, fasta=out / "s.fa.gz", labels=out / "labels.tsv")
    return extract + ["--summary", str(out / "summary.json"), "--parts", *map(str, parts)]


def check_partly_named(out: Path) -> None:
    assert set(read_tsv(out / "labels.tsv")["accession"]) == {"NG_012337.1"}
    assert any("chrM" in w for w in json.loads((out / "summary.json").read_text())["warnings"])


def sequences_shorter_than_window(shared, inp, out, model):
    """Three pieces of the real NG_012337.1 (20, 45 and 200 bp) for a model of 60 bp windows."""
    bases = (shared / "gff" / "NG_012337.1.fasta").read_text().partition("\n")[2].replace("\n", "")
    pieces = {"exon_edge": bases[5000:5020], "promoter_core": bases[4900:4945], "gene_start": bases[5000:5200]}
    (inp / "short.fa").write_text("".join(f">{name}\n{seq}\n" for name, seq in pieces.items()))
    return predict_on(model, out, "fasta", inp / "short.fa")


def check_shorter(out: Path) -> None:
    table = read_tsv(out / "windows.tsv")
    assert sorted(table.loc[table["n_padded"] > 0, "name"]) == ["exon_edge", "promoter_core"]


def vcf_some_contigs_unknown(shared, inp, out, model):
    return predict_on(model, out, "vcf", *vcf_partly_on_other_contigs(shared, inp))


def check_some_contigs_unknown(out: Path) -> None:
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unknown_contigs"] == {"chrM": 2, "chr1_KI270706v1_random": 1}
    assert summary["status_counts"]["unknown_contig"] == 3 and summary["status_counts"]["ok"] == 3
    table = read_tsv(out / "variants.tsv", dtype=str)
    assert table.groupby("chrom")["status"].agg(set).to_dict() == {
        "NG_012337.1": {"ok"},
        "chrM": {"unknown_contig"},
        "chr1_KI270706v1_random": {"unknown_contig"},
    }
    with pysam.VariantFile(str(out / "variants.vcf.gz")) as vcf:
        assert [r.info["GDL_STATUS"][0] for r in vcf if r.chrom == "chrM"] == ["unknown_contig"] * 2


ACCEPTED_REAL = {  # id -> (builder -> argv, check of the complete outputs)
    "reference_names_partly_match": (reference_partly_named, check_partly_named),
    "predict_sequences_shorter_than_window": (sequences_shorter_than_window, check_shorter),
    "predict_vcf_some_contigs_not_in_reference": (vcf_some_contigs_unknown, check_some_contigs_unknown),
}


@pytest.mark.parametrize("case_id", list(ACCEPTED_REAL))
def test_real_input_flaw_worked_around(shared_data, model_dir, tmp_path, capsys, case_id):
    build, check = ACCEPTED_REAL[case_id]
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    argv = build(shared_data, inp, out, model_dir)
    capsys.readouterr()  # what the steps before the entry point printed
    status, stdout, err = run_cli(argv, capsys)
    assert status == 0 and len(err) == 1 and err[0].startswith("warning: "), err
    assert_prints_tabled_line(case_id, err)
    check(out)
    assert_no_temporary_files(out)


def test_gff3_with_fasta_section_is_read(shared_data, tmp_path, capsys):
    """A GFF3 file with its sequences embedded after ##FASTA is valid GFF3: read up to that line."""
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    fasta, gff = real_reference(shared_data, inp)
    gff.write_text(gff.read_text() + "##FASTA\n" + fasta.read_text())
    status, stdout, err = run_cli(extract_reference(out, fasta, gff), capsys)
    assert status == 0 and all(line.startswith(WARNINGS) for line in err), err
    assert_prints_tabled_line("reference_gff3_with_fasta_section", stdout)
    assert set(read_tsv(out / "labels.tsv")["label"]) == {"exon", "intron", "utr", "intergenic"}
    assert_no_temporary_files(tmp_path)


# --- config errors, where the Snakefile is the entry point ------------------------------------------------------


def config_text(case_id: str) -> str:
    """The demo config with the case's change: to a key's value (CONFIG_CASES) or to the file's text."""
    text = (REPO / "config" / "config.yaml").read_text()
    if case_id in CONFIG_TEXT_CASES:
        return CONFIG_TEXT_CASES[case_id][0](text)
    config = yaml.safe_load(text)
    CONFIG_CASES[case_id][0](config)
    return yaml.safe_dump(config, sort_keys=False)


def config_line_start(case_id: str) -> str:
    """How the case's line begins: the config key, or the file and line of a YAML error."""
    if case_id in CONFIG_TEXT_CASES:
        return f"genomedl: error: {CONFIG_TEXT_CASES[case_id][1]}"
    return f"genomedl: error: config key {CONFIG_CASES[case_id][1]}: "


@pytest.fixture(scope="module")
def config_dry_runs(tmp_path_factory) -> dict:
    """``snakemake -n`` on a copy of the workflow per config case, run side by side (each start of
    snakemake takes seconds, mostly waiting on its plugins)."""
    workdirs = {}
    for case_id in [*CONFIG_CASES, *CONFIG_TEXT_CASES]:
        workdirs[case_id] = copy_workflow(tmp_path_factory.mktemp(case_id))
        (workdirs[case_id] / "config" / "config.yaml").write_text(config_text(case_id))
    with ThreadPoolExecutor(len(workdirs)) as pool:
        done = pool.map(lambda workdir: snakemake(workdir, "-n", check=False, timeout=300), workdirs.values())
        return {case_id: (workdirs[case_id], result) for case_id, result in zip(workdirs, done)}


@pytest.mark.parametrize("case_id", [*CONFIG_CASES, *CONFIG_TEXT_CASES])
def test_bad_config(config_dry_runs, case_id):
    workdir, done = config_dry_runs[case_id]
    err = done.stderr.splitlines()
    assert done.returncode != 0 and len(err) == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout
    line = assert_prints_tabled_line(case_id, err)
    assert line.startswith(config_line_start(case_id)) and "; " in line
    assert not (workdir / "results").exists() and not (workdir / "resources").exists()


@pytest.mark.parametrize("case_id", list(CHECK_CONFIG_CASES))
def test_check_config(tmp_path, capsys, case_id):
    """A --configfile is read by Snakemake before genomedl runs (README.md): genomedl check-config names the
    file, the line and the fix."""
    edit, fault = CHECK_CONFIG_CASES[case_id]
    path = tmp_path / "my.yaml"
    if edit is not None:
        path.write_text(edit((REPO / "config" / "config.yaml").read_text()))
    status, stdout, err = run_cli(["check-config", str(path)], capsys)
    assert_one_clear_line(case_id, "check-config", status, stdout, err, fault, tmp_path / "results")


def test_readme_quotes_what_snakemake_says_of_a_configfile(tmp_path):
    """What Snakemake prints for a --configfile it cannot read (before any genomedl code runs) is quoted in
    README.md, beside the genomedl check-config advice, so the README's account of errors stays true."""
    workdir = copy_workflow(tmp_path)
    readme = (REPO / "README.md").read_text()
    assert "genomedl check-config" in readme
    for edit in (None, tab_indented):
        if edit is not None:
            (workdir / "my.yaml").write_text(edit((REPO / "config" / "config.yaml").read_text()))
        done = snakemake(workdir, "-n", "--configfile", "my.yaml", check=False, timeout=300)
        last = (done.stdout + done.stderr).strip().splitlines()[-1]  # Snakemake prints these on stdout
        assert done.returncode != 0 and last in readme, last
        assert not (workdir / "results").exists() and not (workdir / "resources").exists()


# --- the table and the cases agree ---------------------------------------------------------------------------------


def test_readme_table_lists_exactly_the_cases():
    ids = (
        [genbank_id(n) for n in MALFORMED]
        + [c[0] for c in STAGE_CASES]
        + list(ACCEPTED)
        + list(CONFIG_CASES)
        + list(CONFIG_TEXT_CASES)
        + list(CHECK_CONFIG_CASES)
        + list(ACCEPTED_REAL)
        + OTHER_CASES
        + list(REAL_CASES)
        + ["reference_gff3_with_fasta_section"]
    )
    assert len(ids) == len(set(ids))
    assert sorted(corpus_table()) == sorted(ids)
    assert all(row["nothing left behind"] and row["entry point"] for row in corpus_table().values())
