"""Bring-your-own labelled data, exactly (issue 17): labels of any type, whole-sequence windows, predefined
splits kept row for row, CSV/TSV as users have them. Bad inputs with one-line errors: test_bad_inputs.py."""

from __future__ import annotations

import gzip

import numpy as np
import pysam
import pytest

from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.sequence import reverse_complement
from genomedl.stages.encode import run_encode
from genomedl.stages.extract import run_extract
from genomedl.stages.split import run_split
from genomedl.tables import natural_sorted, read_json, read_tsv

QUIET = dict(log=lambda *a: None)


def extract(tmp_path, files, window=None, split=None, log=None):
    """Run extract on labelled ``files``: (labels.tsv, summary, {window id: bases})."""
    out = tmp_path / "out"
    settings = {"task": "labelled", "source": {"labelled": [str(f) for f in files]}, "window": window or {}}
    if split is not None:
        settings["split"] = split
    run_extract(out / "s.fa.gz", out / "labels.tsv", out / "summary.json", settings, 0, log=log or QUIET["log"])
    labels = read_tsv(out / "labels.tsv")
    with pysam.FastaFile(str(out / "s.fa.gz")) as fasta:
        bases = {name: fasta.fetch(name) for name in fasta.references}
    return labels, read_json(out / "summary.json"), bases


def through_split(tmp_path, split_settings=None):
    """encode + split on the extract outputs in tmp_path/out: (labels, split table, split summary)."""
    out = tmp_path / "out"
    run_encode(out / "s.fa.gz", out / "labels.tsv", out / "tokens.npy", out / "meta.json", **QUIET)
    summary = run_split(
        out / "labels.tsv", out / "tokens.npy", out / "split.tsv", out / "split.json", split_settings or {}, 0, **QUIET
    )
    return read_tsv(out / "labels.tsv"), read_tsv(out / "split.tsv"), summary


def test_natural_order():
    assert natural_sorted([10, "2", "1", "class10", "class2"]) == ["1", "2", "10", "class2", "class10"]


def test_integer_labels_run_end_to_end_as_strings_in_natural_order(tmp_path):
    rows = ["ACGTACGTAC", "GGGGAAAATT", "CCCCAAAATG", "TTGACCATGA", "GATTACAGAT", "CATCATCATG"]
    csv = tmp_path / "train.csv"
    csv.write_text("sequence,label\n" + "".join(f"{s},{lab}\n" for s, lab in zip(rows, [10, 2, " 10", 2, 10, "2 "])))
    labels, summary, _ = extract(tmp_path, [csv])
    assert summary["classes"] == ["2", "10"] and summary["class_counts"] == {"2": 3, "10": 3}
    assert labels["label"].tolist() == ["10", "2", "10", "2", "10", "2"]
    out = tmp_path / "out"
    run_encode(out / "s.fa.gz", out / "labels.tsv", out / "tokens.npy", out / "meta.json", **QUIET)
    assert read_json(out / "meta.json")["classes"] == ["2", "10"]
    (out / "split.tsv").write_text("id\tsplit\n" + "".join(f"{i}\ttrain\n" for i in labels["id"]))
    data = load_dataset(DatasetFiles(out / "tokens.npy", out / "meta.json", out / "labels.tsv", out / "split.tsv"))
    assert data.classes == ["2", "10"] and data.parts["train"].labels.tolist() == [1, 0, 1, 0, 1, 0]


def test_labels_differing_only_in_case_are_warned_about_by_name(tmp_path, capsys):
    csv = tmp_path / "s.csv"
    csv.write_text("sequence,label\nACGTACGTAC,Exon\nGGGGAAAATT,exon\nCCCCAAAATG,intron\n")
    _, summary, _ = extract(tmp_path, [csv])
    assert summary["classes"] == ["Exon", "exon", "intron"]
    assert capsys.readouterr().err.splitlines() == [
        "warning: labels 'Exon', 'exon' differ only in case; they are kept as separate classes"
    ]


SEQS = {"short": "ACGTAC", "exact": "GGCCAATT", "long": "TTTACGTACGGG"}  # 6, 8 and 12 bp; window 8


@pytest.mark.parametrize(
    "window, expected, rows",
    [
        (
            {"length": 8},  # defaults: shorter pad, longer crop
            {"short:-1-7:+": "NACGTACN", "exact:0-8:+": "GGCCAATT", "long:2-10:+": "TACGTACG"},
            {"padded": 1, "kept": 1, "cropped": 1},
        ),
        (
            {"length": 8, "shorter": "drop"},
            {"exact:0-8:+": "GGCCAATT", "long:2-10:+": "TACGTACG"},
            {"dropped_shorter": 1, "kept": 1, "cropped": 1},
        ),
        (
            {"length": 8, "longer": "tile", "stride": 3},
            {
                "short:-1-7:+": "NACGTACN",
                "exact:0-8:+": "GGCCAATT",
                "long:0-8:+": "TTTACGTA",
                "long:3-11:+": "ACGTACGG",
                "long:4-12:+": "CGTACGGG",
            },
            {"padded": 1, "kept": 1, "tiled": 1, "tiled_windows": 3},
        ),
        (
            {},  # length omitted: the longest sequence
            {"short:-3-9:+": "NNNACGTACNNN", "exact:-2-10:+": "NNGGCCAATTNN", "long:0-12:+": "TTTACGTACGGG"},
            {"padded": 2, "kept": 1},
        ),
    ],
    ids=["pad_crop", "drop", "tile", "longest"],
)
def test_whole_sequence_policy(tmp_path, window, expected, rows):
    csv = tmp_path / "s.csv"
    csv.write_text("id,sequence,label\n" + "".join(f"{i},{s},{i == 'long'}\n" for i, s in SEQS.items()))
    lines = []
    window = {**window, "max_n_fraction": 0.0}  # padding is not held against a sequence
    labels, summary, bases = extract(tmp_path, [csv], window=window, log=lines.append)
    assert bases == expected and labels["id"].tolist() == list(expected)
    counted = {k: v for k, v in summary["rows"].items() if k in rows}
    assert counted == rows and summary["rows"]["input"] == 3
    outcomes = ("kept", "padded", "cropped", "tiled", "dropped_shorter")
    assert sum(summary["rows"].get(k, 0) for k in outcomes) == 3
    changed = [line for line in lines if "extract: of 3 labelled sequences" in line]
    assert len(changed) == 1
    assert changed[0].startswith("warning: ") == any(k in rows for k in ("padded", "dropped_shorter"))
    for key in ("padded", "dropped_shorter", "cropped", "tiled"):
        if rows.get(key):
            assert f"{rows[key]} {key.replace('_', ' ')}" in changed[0]


def test_exact_length_sequences_are_used_as_they_are(tmp_path):
    """60 and 70 bp sequences with window.length equal to their length: one window each, nothing announced."""
    rng = np.random.default_rng(0)
    for length in (60, 70):
        folder = tmp_path / str(length)
        folder.mkdir()
        seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(4)]
        (folder / "s.csv").write_text("sequence,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(seqs)))
        lines = []
        labels, summary, bases = extract(folder, [folder / "s.csv"], window={"length": length}, log=lines.append)
        assert list(bases.values()) == seqs and summary["rows"]["kept"] == 4 and summary["window_length"] == length
        assert not any("labelled sequences" in line for line in lines)


def predefined_csv(path):
    """6 train, 2 val, 4 test rows; test t1 equals train a, test t2 is the reverse complement of train b."""
    train = ["ACGTTGCAAC", "GGGAAATTCC", "CATGCATGGA", "TTAGGCCAAT", "GACTGACTTT", "CCCGGGAAAT"]
    val = ["AGAGAGTCTC", "TGTGTCACAC"]
    test = [train[0], "".join(map(chr, reverse_complement(np.frombuffer(train[1].encode(), np.uint8)[None])[0]))]
    test += ["ATATCGCGAT", "GCGCATATGC"]
    rows = [(f"a{i}", s, i % 2, "train") for i, s in enumerate(train)]
    rows += [(f"v{i}", s, i % 2, "dev") for i, s in enumerate(val)]
    rows += [(f"t{i}", s, i % 2, "test") for i, s in enumerate(test)]
    path.write_text("id,sequence,label,split\n" + "".join(f"{i},{s},{lab},{sp}\n" for i, s, lab, sp in rows))
    return [r[0] for r in rows if r[3] == "test"]


def test_a_predefined_test_split_comes_out_with_exactly_its_rows(tmp_path):
    test_ids = predefined_csv(tmp_path / "bench.csv")
    lines = []
    labels, summary, _ = extract(tmp_path, [tmp_path / "bench.csv"], window={"length": 10}, log=lines.append)
    assert len(labels) == 12 and summary["duplicates"]["mode"] == "report"
    assert summary["duplicates"]["across_splits"] == {
        "groups_in_two_splits": 2,
        "test_rows_with_identical_train_twin": 1,
        "test_rows_with_reverse_complement_train_twin": 1,
    }
    assert any("2 groups of identical or reverse-complement sequences span" in line for line in lines)
    labels, split, split_summary = through_split(tmp_path)
    assert split_summary["strategy"] == "predefined"
    assert labels["accession"][split["split"] == "test"].tolist() == test_ids
    assert (split["split"] == "val").sum() == 2 and split_summary["leakage"]["identical_windows_in_two_splits"] == 2


def test_split_dedupe_collapse_removes_the_twins(tmp_path):
    predefined_csv(tmp_path / "bench.csv")
    labels, summary, _ = extract(
        tmp_path, [tmp_path / "bench.csv"], window={"length": 10}, split={"dedupe": "collapse"}
    )
    assert len(labels) == 10 and summary["duplicates"]["mode"] == "collapse"
    assert summary["rows"]["dropped_duplicate"] == 2 and summary["rows"]["input"] == 12
    assert labels["accession"][labels["split"] == "test"].tolist() == ["t2", "t3"]


def test_separate_files_per_split_are_a_predefined_split(tmp_path):
    for name, seqs in {
        "train.csv": ["ACGTTGCAAC", "GGGAAATTCC", "CATGCATGGA", "TTAGGCCAAT"],
        "dev.csv": ["AGAGAGTCTC", "TGTGTCACAC"],
        "test.csv": ["ATATCGCGAT", "GCGCATATGC", "ACGTTGCAAC"],
    }.items():
        (tmp_path / name).write_text("sequence,label\n" + "".join(f"{s},{i % 2}\n" for i, s in enumerate(seqs)))
    files = [tmp_path / n for n in ("train.csv", "dev.csv", "test.csv")]
    labels, summary, _ = extract(tmp_path, files, window={"length": 10})
    assert labels["split"].tolist() == ["train"] * 4 + ["val"] * 2 + ["test"] * 3
    assert summary["duplicates"]["across_splits"]["test_rows_with_identical_train_twin"] == 1


BASE = [("ACGUACGUAC", "a", "x"), ("GGGGAAAAUU", "b", "y"), ("CCCCAAAATG", "a", "x")]


def variant(kind: str) -> tuple[str, bytes]:
    """(file name, bytes) of BASE in one of the formats users have."""
    sep = {"semicolon": ";", "tab": "\t"}.get(kind, ",")
    name = "s.tsv" if kind == "tab" else "s.csv"
    quote = '"' if kind == "quoted" else ""
    eol = "\r\n" if kind == "crlf" else "\n"
    text = sep.join(["id", "sequence", "label"]) + eol
    text += "".join(
        sep.join([f"{quote}r{i}{quote}", f"{quote}{s}{quote}", f"{quote}{lab}{quote}"]) + eol
        for i, (s, lab, _) in enumerate(BASE)
    )
    data = text.encode("utf-8-sig" if kind == "bom" else "utf-8")
    return name, gzip.compress(data) if kind == "gzip" else data


@pytest.mark.parametrize("kind", ["comma", "semicolon", "tab", "bom", "gzip", "crlf", "quoted"])
def test_csv_as_users_have_it(tmp_path, kind):
    name, data = variant(kind)
    (tmp_path / name).write_bytes(data)
    labels, summary, bases = extract(tmp_path, [tmp_path / name], window={"length": 10})
    assert labels["accession"].tolist() == ["r0", "r1", "r2"] and labels["label"].tolist() == ["a", "b", "a"]
    assert list(bases.values()) == ["ACGTACGTAC", "GGGGAAAATT", "CCCCAAAATG"]
    assert summary["bases"]["u_to_t"] == 4 and summary["rows"]["kept"] == 3


def test_rna_fasta_u_becomes_t_and_is_counted(tmp_path):
    fasta = tmp_path / "s.fa"
    fasta.write_text(">r1 label=a\nACGUACGUAC\n>r2 label=b\nggggaaaauu\n")
    _, summary, bases = extract(tmp_path, [fasta], window={"length": 10})
    assert list(bases.values()) == ["ACGTACGTAC", "GGGGAAAATT"] and summary["bases"]["u_to_t"] == 4


def test_windows_policy_accounts_for_sequences_without_a_window(tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("id,sequence,label\n" + "".join(f"{i},{s},{i == 'long'}\n" for i, s in SEQS.items()))
    lines = []
    window = {"length": 8, "sequences": "windows", "mode": "tiled", "stride": 8}  # windows off the edge: dropped
    labels, summary, bases = extract(tmp_path, [csv], window=window, log=lines.append)
    assert bases == {"exact:0-8:+": "GGCCAATT", "long:0-8:+": "TTTACGTA"}
    assert summary["rows"]["windows"] == 2 and summary["rows"]["dropped_no_window"] == 1
    assert summary["rows"]["dropped_examples"] == {"dropped_no_window": ["short"]}
    assert [line for line in lines if "labelled sequences" in line] == [
        "warning: extract: of 3 labelled sequences (window 8 bp): 1 dropped no window"
    ]


def test_train_and_test_files_as_published_get_a_stratified_validation_split_from_train(shared_data, tmp_path):
    """DeepBind's USF1 files (../shared/data, first rows only): train.csv and test.csv, nothing else set. The test
    rows stay exactly test; a stratified split.val share of the train rows becomes val, recorded in the summary."""
    folder = shared_data / "deepbind_tfbs" / "USF1"
    for name, rows in (("train.csv", 600), ("test.csv", 100)):
        (tmp_path / name).write_text("".join(open(folder / name).readlines()[: rows + 1]))
    labels, _, _ = extract(tmp_path, [tmp_path / "train.csv", tmp_path / "test.csv"])
    labels, split, summary = through_split(tmp_path)
    assert summary["strategy"] == "predefined" and summary["val_from_train"] == (split["split"] == "val").sum()
    assert (labels["split"] == "test").equals(split["split"] == "test")
    val = split["split"] == "val"
    assert 0.1 < val.sum() / (labels["split"] == "train").sum() < 0.2
    assert labels["label"][val].value_counts().min() >= 0.4 * val.sum()  # both classes, stratified
