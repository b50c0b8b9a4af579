"""The real Snakemake workflow on the demo config, run in a temporary copy of the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genomedl.tables import read_json, read_tsv
from helpers import REPO, copy_workflow, planned_jobs, snakemake, summary

pytestmark = pytest.mark.workflow
DEMO_JOBS = {
    "demo_data",
    "fetch",
    "extract",
    "encode",
    "split",
    "qc",
    "train",
    "baseline",
    "evaluate",
    "report",
    "all",
    "plot_training",
    "interpret",
    "pretrain",
    "finetune",
    "embed",
    "gan",
    "reference_records",
    "predict",
    "predict_variants",
    "export",
}


def test_demo_plans_every_stage(tmp_path):
    copy_workflow(tmp_path)
    assert set(planned_jobs(tmp_path)) == DEMO_JOBS


def test_demo_report_and_metrics_are_sane(demo_run):
    results = demo_run / "results" / "demo"
    html = (results / "report" / "index.html").read_text()
    for model in ("cnn", "kmer_logreg", "onehot_logreg"):
        metrics = read_json(results / "eval" / model / "metrics.json")
        assert 0.0 <= metrics["auroc"] <= 1.0 and -1.0 <= metrics["mcc"] <= 1.0
        assert metrics["n"] == sum(read_json(results / "split_summary.json")["class_counts"]["test"].values())
        assert f"<td>{model}</td>" in html
    assert "AC007323.5" in html  # provenance of a real Biopython record
    # one sentence answers whether deep learning beat the strongest baseline, with the paired interval
    verdict = re.search(
        r'<p id="verdict"><b>Deep learning (helped|did not help|did not make a difference):</b>\s*'
        r"the best neural model, (\S+), .* the (k-mer|one-hot) baseline (kmer|onehot)_logreg: Δ AUROC (-?[0-9.]+) ",
        html,
    )
    assert verdict and verdict[2] in html.split('id="leaderboard"')[1]
    assert (verdict[3] == "k-mer") == (verdict[4] == "kmer")
    baselines = {m: read_json(results / "eval" / m / "metrics.json")["auroc"] for m in ("kmer_logreg", "onehot_logreg")}
    assert verdict[4] == max(baselines, key=baselines.get).removesuffix("_logreg")  # the stronger one


def test_demo_split_shares_no_record(demo_run):
    results = demo_run / "results" / "demo"
    labels = read_tsv(results / "labels.tsv").merge(read_tsv(results / "split.tsv"), on="id")
    assert (labels.groupby("accession")["split"].nunique() == 1).all()
    assert set(labels["split"]) == {"train", "val", "test"}


def test_demo_provenance(demo_run):
    results = demo_run / "results" / "demo"
    manifest = read_tsv(results / "raw" / "manifest.tsv", dtype=str)
    assert len(manifest) == 10 and set(manifest["source"]) == {"local"}
    run = read_json(results / "models" / "cnn" / "run.json")
    assert run["seed"] == 42 and run["versions"]["torch"] and run["hardware"]["device"] == "cpu"
    assert (demo_run / "logs" / "demo" / "train" / "cnn.log").exists()


def test_rerun_does_nothing_and_extract_params_rerun_downstream_only(demo_run, tmp_path):
    assert planned_jobs(demo_run) == {}
    config_path = demo_run / "config" / "config.yaml"
    original = config_path.read_text()
    config = yaml.safe_load(original)
    config["datasets"]["demo"]["window"]["stride"] = 80
    config_path.write_text(yaml.safe_dump(config))
    try:
        jobs = planned_jobs(demo_run)
    finally:
        config_path.write_text(original)
    fresh = planned_jobs(copy_workflow(tmp_path))
    assert jobs == {rule: n for rule, n in fresh.items() if rule not in ("demo_data", "fetch", "reference_records")}


def test_lint_and_format(demo_run):
    lint = snakemake(demo_run, "--lint", check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent))
    fmt = subprocess.run([snakefmt, "--check", "Snakefile", "workflow"], cwd=REPO, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stderr


def test_ncbi_example_dry_run(tmp_path):
    copy_workflow(tmp_path)
    done = snakemake(tmp_path, "-n", "--configfile", "config/ncbi_example.yaml", "--quiet", "rules")
    jobs = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", done.stdout, re.M)}
    assert jobs["fetch"] == 1 and jobs["train"] == 1 and "demo_data" not in jobs
    assert "results/ncbi_panel" in snakemake(tmp_path, "-n", "--configfile", "config/ncbi_example.yaml").stdout


def test_snakemake_report_has_every_registered_figure(demo_run, tmp_path):
    import zipfile

    out = tmp_path / "report.zip"
    snakemake(demo_run, "--report", str(out))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert any(n.endswith("report.html") for n in names)
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) >= 4, names  # ROC/PR, calibration, confusion, training curves at least
    assert any("index.html" in n for n in names)


def test_summary_declares_every_output_and_list_changes_follows_params(demo_run):
    rows = summary(demo_run)
    assert {r["status"] for r in rows.values()} == {"ok"}, {k: r for k, r in rows.items() if r["status"] != "ok"}
    assert {r["plan"] for r in rows.values()} == {"no update"}
    # every file the run left under results/ is a declared output (or inside a declared directory);
    # --summary leaves out the files of `benchmark:` directives
    folders = [Path(p) for p in rows if (demo_run / p).is_dir()]
    written = [
        p.relative_to(demo_run)
        for p in (demo_run / "results").rglob("*")
        if p.is_file() and "benchmarks" not in p.parts
    ]
    undeclared = [p for p in written if str(p) not in rows and not any(f in p.parents for f in folders)]
    assert undeclared == []
    for kind in ("code", "input"):
        assert snakemake(demo_run, "--list-changes", kind).stdout.strip() == "", kind

    config_path = demo_run / "config" / "config.yaml"
    original = config_path.read_text()
    config = yaml.safe_load(original)
    config["models"]["cnn"]["lr"] = 0.002
    config["models"]["bert_pretrained"]["lr"] = 0.0002  # a fine-tuned model's entry counts too
    config_path.write_text(yaml.safe_dump(config))
    try:
        listed = set(snakemake(demo_run, "--list-changes", "params").stdout.split())
        rows = summary(demo_run)
    finally:
        config_path.write_text(original)
    cnn, bert = (
        {f"results/demo/models/{m}/{name}" for name in ("model.ckpt", "history.tsv", "run.json")}
        for m in ("cnn", "bert_pretrained")
    )
    report = {f"results/demo/report/{name}" for name in ("index.html", "leaderboard.tsv", "overview.png")}
    changed = {f for f, row in rows.items() if row["status"] == "params changed"}
    assert changed == cnn | bert | report  # run information
    assert rows["results/demo/models/bert_pretrained/model.ckpt"]["plan"].startswith("update pending")
    assert cnn <= listed  # Snakemake 9.27's --list-changes params also names one output of every other job
    assert rows["results/demo/models/cnn/model.ckpt"]["plan"].startswith("update pending")
    assert rows["results/demo/eval/cnn/metrics.json"]["plan"].startswith("update pending")
    assert rows["results/demo/models/kmer_logreg/model.npz"]["plan"] == "no update"

    # a changed rule (here the split rule's command) reruns that rule's outputs and what depends on them
    rule_path = demo_run / "workflow" / "rules" / "split.smk"
    original = rule_path.read_text()
    rule_path.write_text(original.replace('"genomedl split ', '"genomedl  split ', 1))
    try:
        listed = set(snakemake(demo_run, "--list-changes", "code").stdout.split())
        rows = summary(demo_run)
    finally:
        rule_path.write_text(original)
    assert "results/demo/split.tsv" in listed
    assert rows["results/demo/split.tsv"]["status"] == "rule implementation changed"
    assert rows["results/demo/models/cnn/model.ckpt"]["plan"].startswith("update pending")
    assert rows["results/demo/raw/records.gb.gz"]["plan"] == "no update"
