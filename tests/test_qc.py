"""The qc stage (dataset quality gate): a planted shortcut fails it, a planted leak is counted, real data passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genomedl.cli import main
from genomedl.errors import GenomedlError
from genomedl.probes.leakage import reverse_complement
from genomedl.stages.qc import run_qc
from genomedl.tables import read_json, read_tsv, write_json, write_tsv
from helpers import cli_args, report_of, write_inputs

QUIET = dict(log=lambda *a: None)


def write_dataset(folder: Path, tokens: np.ndarray, labels: list[str], split: list[str]) -> dict[str, Path]:
    """tokens.npy, labels.tsv (one group per window), split.tsv and split_summary.json as the stages write them."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"w{i}" for i in range(len(tokens))]
    np.save(folder / "tokens.npy", tokens)
    frame = pd.DataFrame({"id": ids, "label": labels, "accession": ids, "gene": "", "group": ids})
    write_tsv(frame, folder / "labels.tsv")
    write_tsv(pd.DataFrame({"id": ids, "split": split}), folder / "split.tsv")
    write_json({"group_by": "group"}, folder / "split_summary.json")
    return {
        "tokens": folder / "tokens.npy",
        "labels": folder / "labels.tsv",
        "split": folder / "split.tsv",
        "split_summary": folder / "split_summary.json",
    }


def gc_shortcut(folder: Path, n: int = 600, length: int = 100) -> dict[str, Path]:
    """SYNTHETIC: random windows whose two classes differ only in GC content (GC 0.6 vs 0.4, no motif)."""
    rng = np.random.default_rng(1)
    rich = np.arange(n) % 2 == 1
    p_rich, p_poor = [0.2, 0.3, 0.3, 0.2], [0.3, 0.2, 0.2, 0.3]
    tokens = np.where(
        rich[:, None], rng.choice(4, size=(n, length), p=p_rich), rng.choice(4, size=(n, length), p=p_poor)
    ).astype(np.uint8)
    split = np.array(["train", "train", "train", "val", "test"])[np.arange(n) // 2 % 5]
    return write_dataset(folder, tokens, np.where(rich, "gc_rich", "gc_poor").tolist(), split.tolist())


def test_planted_gc_shortcut_fails_the_gate_with_one_line(tmp_path, capsys):
    paths = gc_shortcut(tmp_path / "data")
    out = tmp_path / "qc" / "qc.json"
    code = main(cli_args("qc", dataset="synthetic", out=out, seed=0, **paths))
    qc = read_json(out)
    auroc = qc["probes"]["gc"]["auroc"]
    assert code == 2 and auroc > 0.95 and qc["verdicts"]["gc"] == "fail"
    assert capsys.readouterr().err == (
        f"genomedl qc: error: dataset synthetic: qc probe gc fails: a GC content classifier alone reaches test "
        f"AUROC {auroc:.3f} (fail at >= 0.9); fix the data or accept it with datasets.synthetic.qc.allow: [gc]\n"
    )


def test_an_allowed_fail_passes_and_is_marked(tmp_path):
    paths = gc_shortcut(tmp_path / "data")
    qc = run_qc(**paths, out=tmp_path / "qc.json", dataset="synthetic", settings={"allow": ["gc"]}, seed=0, **QUIET)
    assert qc["verdicts"]["gc"] == "allowed" and qc["failed"] == [] and qc["verdicts"]["near_duplicates"] == "pass"


def planted_leak(folder: Path, rng: np.random.Generator, length: int = 200) -> tuple[dict[str, Path], np.ndarray]:
    """SYNTHETIC: 600 random train windows; test: 100 of them with 3% of bases mutated (every second one
    reverse-complemented) and 100 unrelated windows; val: 100 unrelated windows. Returns paths, leaked rows."""
    train = rng.integers(0, 4, size=(600, length), dtype=np.uint8)
    sources = rng.choice(600, 100, replace=False)
    leaked = train[sources].copy()
    for row in leaked:
        at = rng.choice(length, length * 3 // 100, replace=False)
        row[at] = (row[at] + rng.integers(1, 4, len(at))) % 4
    leaked[1::2] = reverse_complement(leaked[1::2])
    others = rng.integers(0, 4, size=(200, length), dtype=np.uint8)
    tokens = np.concatenate([train, leaked, others])
    split = ["train"] * 600 + ["test"] * 200 + ["val"] * 100
    labels = rng.choice(["a", "b"], len(tokens)).tolist()
    return write_dataset(folder, tokens, labels, split), np.arange(600, 700)


def test_planted_leak_is_found_on_both_strands_with_the_right_count(tmp_path):
    paths, leaked = planted_leak(tmp_path / "data", np.random.default_rng(7))
    with pytest.raises(GenomedlError, match=r"qc probe near_duplicates fails: 100 of 200 test windows \(50.0%\)"):
        run_qc(**paths, out=tmp_path / "qc.json", dataset="leaky", settings={}, seed=0, **QUIET)
    near = read_json(tmp_path / "qc.json")["near_duplicates"]
    assert (near["test"]["above"], near["test"]["reverse_strand"], near["val"]["above"]) == (100, 50, 0)
    assert {e["identity"] for e in near["test"]["examples"]} == {0.97}
    assert near["test"]["histogram"]["counts"][-2] == 100  # every leaked window in [0.95, 0.99)


def test_a_published_split_warns_of_leakage_and_the_novel_test_windows_are_scored_apart(tmp_path):
    """The planted leak on a predefined split (a published benchmark the user cannot change): the gate warns and
    lists the leaked test windows; evaluate scores the whole test split and, apart, the 100 novel windows."""
    from genomedl.stages.evaluate import run_evaluate
    from genomedl.stats.scores import compute_metrics

    paths, leaked = planted_leak(tmp_path / "data", np.random.default_rng(8))
    write_json({"group_by": "group", "strategy": "predefined"}, paths["split_summary"])
    logged = []
    qc = run_qc(**paths, out=tmp_path / "qc.json", dataset="published", settings={}, seed=0, log=logged.append)
    near = qc["near_duplicates"]
    assert qc["verdicts"]["near_duplicates"] == "warn" and qc["failed"] == [] and near["published_split"] is True
    ids = read_tsv(paths["labels"], dtype={"id": str})["id"].to_numpy()
    assert near["test_ids"] == sorted(ids[leaked].tolist())
    assert any("100 of 200 test windows have a train window" in line for line in logged)
    # a baseline scored with the gate's verdict: the novel part is the other 100 test windows
    from genomedl.stages.baseline import run_baseline
    from helpers import files as bundle

    tokens = np.load(paths["tokens"])
    meta = tmp_path / "data" / "meta.json"
    write_json({"classes": ["a", "b"], "length": int(tokens.shape[1])}, meta)
    dataset = bundle({**paths, "meta": meta}, tmp_path / "qc.json")
    run_baseline(dataset, tmp_path / "m", "kmer", {"k": [1, 2], "C": 1.0}, 0, **QUIET)
    result = run_evaluate(tmp_path / "m", dataset, tmp_path / "e", {"bootstrap": 20}, 0, **QUIET)
    novel = result["novel"]
    assert (result["n"], novel["n"], novel["near"]) == (200, 100, 100)
    predictions = read_tsv(tmp_path / "e" / "predictions.tsv", dtype={"id": str})
    kept = ~predictions["id"].isin(near["test_ids"]).to_numpy()
    y = predictions["label"].map({"a": 0, "b": 1}).to_numpy()[kept]
    expected = compute_metrics(y, predictions[["p_a", "p_b"]].to_numpy()[kept], ["a", "b"])
    assert novel["auroc"] == pytest.approx(expected["auroc"], abs=1e-4)  # predictions.tsv rounds to 6 decimals
    assert novel["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-9)
    assert set(novel["ci"]) >= {"auroc", "mcc", "accuracy"}
    # a split genomedl made itself keeps the stop: there the fix is split.dedupe near
    write_json({"group_by": "group", "strategy": "random"}, paths["split_summary"])
    with pytest.raises(GenomedlError, match="qc probe near_duplicates fails"):
        run_qc(**paths, out=tmp_path / "qc2.json", dataset="made", settings={}, seed=0, **QUIET)


def test_dedupe_near_moves_the_leaked_test_windows_to_train(tmp_path):
    paths, leaked = planted_leak(tmp_path / "data", np.random.default_rng(8))
    qc = run_qc(
        **paths,
        out=tmp_path / "qc.json",
        dataset="leaky",
        settings={"allow": ["near_duplicates"]},
        seed=0,
        split_out=tmp_path / "split.tsv",
        split_settings={"dedupe": "near"},
        **QUIET,
    )
    moved = read_tsv(tmp_path / "split.tsv")
    assert qc["dedupe"] == {"val": 0, "test": 100} and qc["verdicts"]["near_duplicates"] == "allowed"
    assert (moved["split"].to_numpy()[leaked] == "train").all() and (moved["split"] == "test").sum() == 100


def test_disabled_gate_is_skipped_and_copies_the_split(tmp_path):
    paths = gc_shortcut(tmp_path / "data", n=100)
    qc = run_qc(
        **paths,
        out=tmp_path / "qc.json",
        dataset="d",
        settings={"enabled": False},
        seed=0,
        split_out=tmp_path / "s.tsv",
    )
    assert qc["verdict"] == "skipped" and "probes" not in qc
    assert read_tsv(tmp_path / "s.tsv").equals(read_tsv(paths["split"]))


def test_clean_real_dataset_passes(shared_data, tmp_path):
    """Real GenBank records (RefSeqGene and clone records, yeast chromosome I, chicken avidin) through the
    fetch, extract, encode and split stages, exon vs intron windows grouped by record."""
    from genomedl.stages.encode import run_encode
    from genomedl.stages.extract import run_extract
    from genomedl.stages.fetch import run_fetch
    from genomedl.stages.split import run_split

    names = ["NG_012772.1", "NG_008939.1", "NG_009105.1", "NG_012337.1", "AL449423.14", "sc_chrom1", "gg_avidin"]
    source = {"local": [str(shared_data / "genbank" / f"{n}.gb") for n in names]}
    raw, out = tmp_path / "raw", tmp_path / "out"
    run_fetch(raw / "records.gb.gz", raw / "manifest.tsv", raw / "genes.json", {"source": source}, **QUIET)
    window = {"length": 200, "mode": "tiled", "stride": 100}
    settings = {"task": "exon_intron", "window": window, "source": source}
    run_extract(
        out / "w.fa.gz", out / "labels.tsv", out / "x.json", settings, seed=42, records=raw / "records.gb.gz", **QUIET
    )
    run_encode(out / "w.fa.gz", out / "labels.tsv", out / "tokens.npy", out / "meta.json")
    run_split(out / "labels.tsv", out / "tokens.npy", out / "split.tsv", out / "split.json", {}, seed=42, **QUIET)
    qc = run_qc(
        out / "tokens.npy",
        out / "labels.tsv",
        out / "split.tsv",
        out / "split.json",
        out / "qc.json",
        "real",
        {},
        42,
        **QUIET,
    )
    assert qc["verdict"] in ("pass", "warn") and qc["failed"] == []
    assert set(qc["verdicts"]) == {"gc", "length_n", "kmer", "position", "near_duplicates"}
    assert all(0.0 <= p["auroc"] <= 1.0 and len(p["ci"]) == 2 for p in qc["probes"].values())
    assert sum(qc["class_balance"]["splits"]["test"].values()) == qc["near_duplicates"]["test"]["windows"]


def test_report_shows_every_probe_with_its_verdict_beside_the_best_model(tmp_path):

    paths = gc_shortcut(tmp_path / "data")
    run_qc(**paths, out=tmp_path / "qc.json", dataset="demo", settings={"allow": ["gc"]}, seed=0, **QUIET)
    out = report_of(tmp_path, write_inputs(tmp_path), settings={"bootstrap": 20}, qc=tmp_path / "qc.json")
    section = out.read_text().split('<h2 id="qc">', 1)[1].split("<h2", 1)[0]
    for title in ("GC content", "length / N content", "k-mer spectrum", "per-position base composition"):
        assert title in section
    assert "(<b>good</b>, test AUROC" in section and section.count(">allowed</td>") == 1
    assert "near-duplicate test windows" in section and "Class balance: train" in section


@pytest.mark.parametrize("dedupe, split", [("near", "results/d/qc/split.tsv"), ("collapse", "results/d/split.tsv")])
def test_model_stages_read_the_qc_split_under_dedupe_near(dedupe, split):
    from genomedl.config import resolve, validate_config

    dataset = {"source": {"local": ["x.gb"]}, "task": "exon_intron", "split": {"dedupe": dedupe}}
    plan = resolve(validate_config({"datasets": {"d": dataset}}))
    assert plan.split_file("d") == split


def motif_windows(
    n: int, length: int, either_strand: bool, seed: int = 3, centred: bool = False
) -> tuple[np.ndarray, list[str]]:
    """SYNTHETIC: random windows; class "bound" carries GGTTACCA (no reverse-complement palindrome) at a random
    place (at the centre with ``centred``), on a random strand with ``either_strand``, else always as written."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 4, (n, length), dtype=np.uint8)
    motif = np.array(["ACGT".index(b) for b in "GGTTACCAG"], np.uint8)
    bound = np.arange(n) % 2 == 1
    for row in np.flatnonzero(bound):
        start = (length - len(motif)) // 2 if centred else rng.integers(0, length - len(motif))
        flip = either_strand and rng.random() < 0.5
        tokens[row, start : start + len(motif)] = (3 - motif[::-1]) if flip else motif
    return tokens, np.where(bound, "bound", "unbound").tolist()


@pytest.mark.parametrize("either_strand", [True, False])
def test_the_strand_verdict_follows_whether_the_label_holds_on_both_strands(tmp_path, either_strand):
    tokens, labels = motif_windows(3000, 60, either_strand)
    split = np.where(np.arange(3000) % 5 == 0, "val", np.where(np.arange(3000) % 5 == 1, "test", "train")).tolist()
    files = write_dataset(tmp_path, tokens, labels, split)
    report = run_qc(**files, out=tmp_path / "qc.json", dataset="d", settings={}, seed=0, task="labelled", **QUIET)
    strands = report["strands"]
    assert strands["probe"]["forward"] > 0.6 and strands["rc_augment"] is either_strand
    kept = strands["probe"]["kept"]
    assert kept > 0.9 if either_strand else kept < 0.5
    assert ("the labels hold on both strands" in strands["reason"]) is either_strand
    # an extraction task's windows are oriented by construction, whatever the probe finds
    oriented = run_qc(**files, out=tmp_path / "qc2.json", dataset="d", settings={}, seed=0, task="splice_site", **QUIET)
    assert oriented["strands"]["rc_augment"] is False and "task splice_site" in oriented["strands"]["reason"]


@pytest.mark.parametrize(
    "either_strand, centred, head",
    [(True, False, "pooled"), (True, True, "mixed"), (False, False, "mixed")],
    ids=["anywhere-either-strand", "centred", "oriented"],
)
def test_the_cnn_head_is_position_free_only_for_a_site_anywhere_on_either_strand(
    tmp_path, either_strand, centred, head
):
    tokens, labels = motif_windows(3000, 60, either_strand, centred=centred)
    split = np.where(np.arange(3000) % 5 == 0, "val", np.where(np.arange(3000) % 5 == 1, "test", "train")).tolist()
    files = write_dataset(tmp_path, tokens, labels, split)
    layout = run_qc(**files, out=tmp_path / "qc.json", dataset="d", settings={}, seed=0, **QUIET)["layout"]
    probe = layout["probe"]
    assert layout["head"] == head, layout
    # the probe itself: a motif anywhere is found by k-mers, not by position; one at the centre by both
    assert probe["anywhere"] is not centred and probe["kmer"] > 0.9
    assert probe["position"] > 0.9 if centred else probe["position"] < 0.7
    assert ("the signal sits anywhere in the window" in layout["reason"]) is not centred
    oriented = run_qc(**files, out=tmp_path / "qc2.json", dataset="d", settings={}, seed=0, task="splice_site", **QUIET)
    assert oriented["layout"]["head"] == "mixed" and "task splice_site" in oriented["layout"]["reason"]


def test_the_strand_probe_never_reads_the_test_split(tmp_path):
    """Test windows relabelled at random change nothing: the verdict comes from train and val alone."""
    tokens, labels = motif_windows(2000, 60, either_strand=True)
    split = np.where(np.arange(2000) % 5 == 0, "val", np.where(np.arange(2000) % 5 == 1, "test", "train"))
    first = run_qc(
        **write_dataset(tmp_path / "a", tokens, labels, split.tolist()),
        out=tmp_path / "a.json",
        dataset="d",
        settings={},
        seed=0,
        **QUIET,
    )
    shuffled = np.array(labels, dtype=object)
    test = np.flatnonzero(split == "test")
    shuffled[test] = np.random.default_rng(0).permutation(shuffled[test])
    second = run_qc(
        **write_dataset(tmp_path / "b", tokens, shuffled.tolist(), split.tolist()),
        out=tmp_path / "b.json",
        dataset="d",
        settings={},
        seed=0,
        **QUIET,
    )
    assert first["strands"] == second["strands"] and first["layout"] == second["layout"]


def test_real_binding_sites_hold_on_both_strands_anywhere_in_the_window(shared_data, tmp_path):
    """The DeepBind CTCFL ChIP-seq set (real peaks against shuffles, ../shared/data): both strands, the signal
    anywhere in the window (a position-free cnn head)."""
    frame = pd.read_csv(shared_data / "deepbind_tfbs" / "CTCFL" / "train.csv").iloc[:8000]
    lookup = np.full(256, 4, np.uint8)
    for i, base in enumerate(b"ACGT"):
        lookup[base] = i
    tokens = lookup[np.frombuffer("".join(frame["sequence"]).encode(), np.uint8)].reshape(len(frame), -1)
    split = np.where(np.arange(len(frame)) % 4 == 0, "val", "train")
    split[-500:] = "test"
    files = write_dataset(tmp_path, tokens, frame["label"].astype(str).tolist(), split.tolist())
    report = run_qc(**files, out=tmp_path / "qc.json", dataset="ctcfl", settings={}, seed=0, **QUIET)
    strands, layout = report["strands"], report["layout"]
    assert strands["rc_augment"] is True and strands["probe"]["forward"] > 0.7, strands
    assert strands["probe"]["kept_ci"][0] >= 0.9
    assert layout["head"] == "pooled" and layout["probe"]["difference_ci"][0] > 0.05, layout
