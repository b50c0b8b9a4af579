"""Predict stage: windows of FASTA/CSV sequences and BED regions on a real reference, bedGraph tracks,
strand handling, k-mer baselines, CLI errors, and the demo run's predictions in the report."""

from __future__ import annotations

import json
import shutil
from contextlib import closing

import numpy as np
import pandas as pd
import pyBigWig
import pysam
import pytest

from genomedl.cli import main
from genomedl.stages.predict import run_predict
from genomedl.tables import read_tsv
from helpers import LENGTH, REFERENCE, cut, files, model_probs, save_tiny_cnn, tokens_of


def read_bedgraph(path):
    lines = path.read_text().splitlines()
    frame = pd.DataFrame([line.split("\t") for line in lines[1:]], columns=["chrom", "start", "end", "value"])
    return lines[0], frame.astype({"start": int, "end": int, "value": float})


SEQUENCES = {
    "short": "ACGTTGCAAGGCTTACGRATCGATC",  # 25 bp, with an IUPAC code (-> N)
    "exact": "acgt" * 15,  # 60 bp, lower case
    "long": "".join(np.random.default_rng(3).choice(list("ACGT"), 175)),
}


def test_fasta_and_csv_sequences_are_tiled_and_scored(tmp_path, model_dir):
    fasta = tmp_path / "in.fa"
    fasta.write_text(
        "".join(f">{k} description\n{v[:100]}\n{v[100:]}\n".replace("\n\n", "\n") for k, v in SEQUENCES.items())
    )
    said = []
    summary = run_predict(model_dir, tmp_path / "fa", "fasta", fasta, {}, log=said.append)
    table = read_tsv(tmp_path / "fa" / "windows.tsv")
    # announced once, with counts: the 25-bp sequence's window is 35 of 60 bases N
    assert [m for m in said if m.startswith("warning:")] == [
        f"warning: {fasta}: 1 of 3 sequences are shorter than the model's 60 bp window: short (25 bp); their "
        "windows are N-padded (58% of their bases)"
    ]
    # stride = half the window: 175 bp -> starts 0, 30, 60, 90 and one flush with the end (115);
    # the 25-bp sequence gets one window centred on it, N-padded
    expected = [("short", -18), ("exact", 0)] + [("long", s) for s in (0, 30, 60, 90, 115)]
    assert list(zip(table["name"], table["start"])) == expected
    assert (table["end"] - table["start"] == LENGTH).all()
    assert table["n_padded"].tolist() == [35, 0, 0, 0, 0, 0, 0]
    padded = {k: "N" * LENGTH + v + "N" * LENGTH for k, v in SEQUENCES.items()}
    windows = [padded[n][s + LENGTH : s + 2 * LENGTH] for n, s in expected]
    np.testing.assert_allclose(table[["p_bg", "p_site"]], model_probs(model_dir, windows), atol=1e-6)
    assert table["predicted"].tolist() == np.where(table["p_site"] > table["p_bg"], "site", "bg").tolist()
    assert summary["strands"] == "both" and summary["stride"] == LENGTH // 2 and summary["padded_windows"] == 1

    header, track = read_bedgraph(tmp_path / "fa" / "tracks" / "site.bedgraph")
    assert header.startswith("track type=bedGraph")
    long = track[track["chrom"] == "long"]  # bins split halfway between window centres, ends reach the edges
    assert list(zip(long["start"], long["end"])) == [(0, 45), (45, 75), (75, 105), (105, 132), (132, 175)]
    np.testing.assert_allclose(long["value"], table.loc[table["name"] == "long", "p_site"], atol=1e-6)

    csv = tmp_path / "in.csv"
    pd.DataFrame({"id": list(SEQUENCES), "sequence": list(SEQUENCES.values())}).to_csv(csv, index=False)
    run_predict(model_dir, tmp_path / "csv", "csv", csv, {}, log=lambda m: None)
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "csv" / "windows.tsv"), table)


def test_bed_regions_take_genome_flanks_and_tracks_tile_them(tmp_path, model_dir, reference):
    size = pysam.FastaFile(str(reference)).get_reference_length(REFERENCE)
    regions = [(0, 40, "start"), (1000, 1200, "a"), (5000, 5020, "tiny"), (size - 70, size, "end")]
    bed = tmp_path / "r.bed"
    bed.write_text("track name=test\n# a comment\n" + "".join(f"{REFERENCE}\t{s}\t{e}\t{n}\n" for s, e, n in regions))
    run_predict(model_dir, tmp_path / "out", "bed", bed, {"stride": 25}, reference=reference, log=lambda m: None)
    table = read_tsv(tmp_path / "out" / "windows.tsv")
    with pysam.FastaFile(str(reference)) as fasta:
        windows = [cut(fasta, REFERENCE, s, s + LENGTH) for s in table["start"]]
    np.testing.assert_allclose(table[["p_bg", "p_site"]], model_probs(model_dir, windows), atol=1e-6)
    first = table.groupby("name", sort=False)["start"].agg(["min", "max", "size"])
    assert first.loc["start"].tolist() == [-10, -10, 1]  # centred on a 40-bp region at the contig start
    assert first.loc["tiny"].tolist() == [4980, 4980, 1]  # flanks from the genome, no N
    assert first.loc["a"].tolist() == [1000, 1140, 7]  # 1000, 1025, ..., 1125, then flush at 1140
    assert first.loc["end"].tolist() == [size - 70, size - 60, 2]
    assert table["n_padded"].tolist() == [10] + [0] * (len(table) - 1)

    for name in ("bg", "site"):
        _, track = read_bedgraph(tmp_path / "out" / "tracks" / f"{name}.bedgraph")
        assert (track["start"].to_numpy()[1:] >= track["end"].to_numpy()[:-1]).all()  # sorted, disjoint
        covered = np.zeros(size, bool)
        covered[np.concatenate([np.arange(s, e) for s, e in zip(track["start"], track["end"])])] = True
        wanted = np.zeros(size, bool)
        for s, e, _ in regions:
            wanted[s:e] = True
        assert (covered == wanted).all()
        centres = table["start"].to_numpy() + LENGTH // 2
        for row in track.itertuples():
            inside = np.flatnonzero((centres >= row.start) & (centres < row.end))
            assert len(inside) == 1 and abs(table[f"p_{name}"][inside[0]] - row.value) < 1e-6
        # the bigWig beside it: the contig's size, the same intervals and values (float32)
        with closing(pyBigWig.open(str(tmp_path / "out" / "tracks" / f"{name}.bw"))) as bigwig:
            assert bigwig.chroms() == {REFERENCE: size}
            intervals = bigwig.intervals(REFERENCE)
        assert [(s, e) for s, e, _ in intervals] == list(zip(track["start"], track["end"]))
        np.testing.assert_allclose([v for _, _, v in intervals], track["value"], atol=1e-6)

    overlapping = tmp_path / "o.bed"
    overlapping.write_text(f"{REFERENCE}\t3000\t3200\tx\n{REFERENCE}\t3100\t3300\ty\n")
    run_predict(model_dir, tmp_path / "o", "bed", overlapping, {}, reference=reference, log=lambda m: None)
    _, track = read_bedgraph(tmp_path / "o" / "tracks" / "site.bedgraph")
    assert track["start"].iloc[0] == 3000 and track["end"].iloc[-1] == 3300
    assert (track["start"].to_numpy()[1:] == track["end"].to_numpy()[:-1]).all()
    # the earlier-starting region x keeps all its bases; y shows only beyond x's end
    values = read_tsv(tmp_path / "o" / "windows.tsv").groupby("name")["p_site"].apply(lambda v: set(v.round(6)))
    owner = np.where(track["start"] < 3200, "x", "y")
    assert (track["end"][owner == "x"] <= 3200).all() and (track["start"][owner == "y"] >= 3200).all()
    assert all(round(v, 6) in values[o] for v, o in zip(track["value"], owner))


def test_whole_chromosome_is_tiled_in_memory_bounded_by_the_chunk(tmp_path, model_dir, arabidopsis_2mb):
    """A BED region spanning the whole real 2-Mb chromosome slice, scored 1000 windows at a time: its windows
    score as those of a 400-kb region and as windows cut independently; numpy's peak memory (tracemalloc) is
    that of the 400-kb run, below the 2 MB the chromosome's tokens alone would take; the tracks tile it."""
    import tracemalloc

    from genomedl.scoring import load_scorer
    from genomedl.stages.predict import predict_regions

    fasta = tmp_path / "chr1.fa"
    shutil.copy(arabidopsis_2mb["fasta"], fasta)
    pysam.faidx(str(fasta))
    with pysam.FastaFile(str(fasta)) as reference:
        chrom, size = reference.references[0], reference.lengths[0]
    scorer, quiet = load_scorer(model_dir, "cpu", "trained"), lambda _: None
    peaks, tables = {}, {}
    for name, end in (("part", 400_000), ("whole", size)):
        (tmp_path / f"{name}.bed").write_text(f"{chrom}\t0\t{end}\n")
        tracemalloc.start()
        predict_regions(scorer, "bed", tmp_path / f"{name}.bed", fasta, LENGTH, 256, tmp_path / name, quiet, 1000)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tables[name] = read_tsv(tmp_path / name / "windows.tsv").drop(columns="name")
    whole, part = tables["whole"], tables["part"].iloc[:-1]  # the part's last window ends flush with its end
    assert len(whole) == -(-(size - LENGTH) // LENGTH) + 1 and whole["end"].iloc[-1] == size
    pd.testing.assert_frame_equal(whole.iloc[: len(part)], part)
    picked = whole.iloc[np.r_[np.random.default_rng(0).choice(len(whole), 40, replace=False), len(whole) - 1]]
    with pysam.FastaFile(str(fasta)) as reference:
        windows = [cut(reference, chrom, s, s + LENGTH) for s in picked["start"]]
    np.testing.assert_allclose(picked[["p_bg", "p_site"]], model_probs(model_dir, windows), atol=1e-6)
    assert peaks["whole"] < min(1.25 * peaks["part"], size), peaks
    _, track = read_bedgraph(tmp_path / "whole" / "tracks" / "site.bedgraph")
    assert track["start"].iloc[0] == 0 and track["end"].iloc[-1] == size and len(track) == len(whole)
    assert (track["start"].to_numpy()[1:] == track["end"].to_numpy()[:-1]).all()
    with closing(pyBigWig.open(str(tmp_path / "whole" / "tracks" / "site.bw"))) as bigwig:
        intervals = np.array(bigwig.intervals(chrom))
    np.testing.assert_array_equal(intervals[:, :2], track[["start", "end"]])
    np.testing.assert_allclose(intervals[:, 2], whole["p_site"], atol=1e-6)


@pytest.mark.parametrize(
    "rc_augment, asked, scored",
    [(False, None, "forward"), (True, None, "both"), (False, "both", "both"), (True, "forward", "forward")],
)
def test_strands_are_scored_as_trained_unless_asked(tmp_path, rc_augment, asked, scored):
    """By default a model is scored on the strands it was trained on (as evaluate and export score it); a
    ``strands`` setting forces either."""
    folder = save_tiny_cnn(tmp_path / "model", rc_augment=rc_augment, seed=1)
    fasta = tmp_path / "in.fa"
    fasta.write_text(f">long\n{SEQUENCES['long']}\n")
    settings = {"strands": asked} if asked else {}
    summary = run_predict(folder, tmp_path / "out", "fasta", fasta, settings, log=lambda m: None)
    table = read_tsv(tmp_path / "out" / "windows.tsv")
    windows = [SEQUENCES["long"][s : s + LENGTH] for s in table["start"]]
    expected = model_probs(folder, windows, both_strands=scored == "both")
    np.testing.assert_allclose(table[["p_bg", "p_site"]], expected, atol=1e-6)
    assert summary["strands"] == scored
    other = model_probs(folder, windows, both_strands=scored != "both")
    assert not np.allclose(table["p_site"], other[:, 1], atol=1e-4)  # the choice matters


def test_kmer_baseline_predicts_with_its_own_window_length(tmp_path, synthetic_dataset):
    from genomedl.models.baselines import baseline_proba
    from genomedl.stages.baseline import run_baseline
    from genomedl.stats.calibration import apply_temperature

    out = tmp_path / "kmer"
    run = run_baseline(files(synthetic_dataset), out, "kmer", {"k": [1, 2]}, 0, log=lambda m: None)
    sequence = "".join(np.random.default_rng(5).choice(list("ACGT"), 230))
    fasta = tmp_path / "in.fa"
    fasta.write_text(f">s\n{sequence}\n")
    summary = run_predict(out, tmp_path / "pred", "fasta", fasta, {}, log=lambda m: None)
    table = read_tsv(tmp_path / "pred" / "windows.tsv")
    assert summary["window_length"] == 100 and table["start"].tolist() == [0, 50, 100, 130]
    with np.load(out / "model.npz") as saved:
        raw = baseline_proba(
            {k: saved[k] for k in saved.files}, tokens_of([sequence[s : s + 100] for s in table["start"]])
        )
    temperature = run["calibration"]["temperature"]  # predictions are calibrated like the evaluated ones
    assert summary["temperature"] == temperature and temperature != 1.0
    np.testing.assert_allclose(table[["p_neg", "p_pos"]], apply_temperature(raw, temperature), atol=1e-6)


@pytest.mark.parametrize(
    "kind, text, message",
    [
        ("bed", "NG_012337.1\t10\t100\nchr99\t5\t50\n", "r.bed: 1 chromosome name(s) not in"),
        ("bed", "NG_012337.1\t10\t99999999\n", "r.bed: line 1: end 99999999 is beyond the end of NG_012337.1"),
        ("bed", "# header\nNG_012337.1 ten 100\n", "r.bed: line 2: expected 'chrom<TAB>start<TAB>end'"),
        ("bed", "NG_012337.1\t50\t50\n", "r.bed: line 1: start 50 is not below end 50"),
        ("fasta", ">ok\nACGT\n>bad\nACGTX\n", "r.fasta: record 2 (bad): invalid character 'X' at byte 5"),
        ("csv", "id,seq\na,ACGT\n", "r.csv: no 'sequence' column"),
        (
            "vcf",
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            "NG_012337.1\t900\t.\tA\tG\t.\t.\t.\nNG_012337.1\t100\t.\tA\tG\t.\t.\t.\n",
            "r.vcf: record 2 (NG_012337.1:100) comes after NG_012337.1:900; the VCF must be sorted",
        ),
        ("fasta", ">a\nACGT\n>a\nACGA\n", "r.fasta: record 2 (a): duplicate id 'a'"),
        ("bed", None, "r.bed: BED input not found; fix the path"),
    ],
)
def test_cli_errors_are_one_line_and_leave_no_output(tmp_path, capsys, model_dir, reference, kind, text, message):
    path = tmp_path / f"r.{kind}"
    if text is not None:
        path.write_text(text)
    out = tmp_path / "out"
    code = main(
        [
            "predict",
            "--model-dir",
            str(model_dir),
            "--out-dir",
            str(out),
            f"--{kind}",
            str(path),
            "--reference",
            str(reference),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("genomedl predict: error: ")
    assert message in err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_reference_without_index_is_refused(tmp_path, capsys, model_dir, shared_data):
    reference = tmp_path / "ref.fa"
    shutil.copy(shared_data / "gff" / "NG_012337.1.fasta", reference)
    bed = tmp_path / "r.bed"
    bed.write_text("NG_012337.1\t0\t100\n")
    assert (
        main(
            [
                "predict",
                "--model-dir",
                str(model_dir),
                "--out-dir",
                str(tmp_path / "o"),
                "--bed",
                str(bed),
                "--reference",
                str(reference),
            ]
        )
        == 2
    )
    assert "no .fai index beside the reference; index it with `samtools faidx" in capsys.readouterr().err
    assert not (tmp_path / "ref.fa.fai").exists()


@pytest.mark.workflow
def test_demo_predictions_reach_the_report(demo_run):
    results = demo_run / "results" / "demo"
    html = (results / "report" / "index.html").read_text()
    assert "Predictions and variant effects" in html and "intron_multiallelic" in html
    variants = read_tsv(results / "predict" / "cnn" / "variants" / "variants.tsv")
    status = dict(zip(variants["id"] + ":" + variants["alt"], variants["status"]))
    assert status == {
        "exon_snv:A": "ok",
        "intron_multiallelic:C": "ok",
        "intron_multiallelic:G": "ok",
        "intron_insertion:ATTAGG": "ok",
        "exon_deletion:A": "ok",
        "ref_mismatch:C": "ref_mismatch",
        "symbolic:<DEL>": "symbolic",
        "near_record_end:G": "near_end",
    }
    with pysam.VariantFile(str(results / "predict" / "cnn" / "variants" / "variants.vcf.gz")) as vcf:
        statuses = [r.info["GDL_STATUS"] for r in vcf.fetch("NC_000932.1", 11000, 13000)]
    assert statuses == [("ok",), ("ok", "ok"), ("ok",), ("ok",)]
    regions = results / "predict" / "cnn" / "regions"
    windows = read_tsv(regions / "windows.tsv")
    summary = json.loads((regions / "summary.json").read_text())
    assert summary["strands"] == "forward" and summary["sequences"] == 3  # as the demo cnn was trained
    _, track = read_bedgraph(regions / "tracks" / "intron.bedgraph")
    assert len(track) == len(windows) == summary["windows"]
    np.testing.assert_allclose(track["value"], windows["p_intron"], atol=1e-6)  # one bin per window, in order
    assert track["start"].iloc[0] == 11400 and track["end"].iloc[-1] == 154478
