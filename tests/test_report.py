"""Report stage: self-contained HTML, strings escaped, leaderboard ordered."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from genomedl.evaluate import compute_metrics
from genomedl.fetch.manifest import MANIFEST_COLUMNS, manifest_row
from genomedl.report import leaderboard, run_report
from genomedl.tables import write_json, write_tsv

HOSTILE = "<script>alert(1)</script>"


def write_inputs(tmp_path):
    row = manifest_row(accession_version="X1.1", text="LOCUS x\n//\n", source="local", query="a.gb",
                       retrieved_at="2026-01-01T00:00:00Z", organism=f"Homo {HOSTILE}")
    write_tsv(pd.DataFrame([row], columns=MANIFEST_COLUMNS), tmp_path / "manifest.tsv")
    write_json({"task": "exon_intron", "classes": ["exon", "intron"], "window_length": 50, "records": 1,
                "windows": 40, "class_counts": {"exon": 20, "intron": 20},
                "bases": {"lowercase": 0, "iupac_to_n": 0, "dropped_off_edge": 0, "dropped_too_many_n": 0}},
               tmp_path / "extract.json")
    write_json({"class_counts": {s: {"exon": 5, "intron": 5} for s in ("train", "val", "test")},
                "groups": {"train": 3, "val": 1, "test": 1}, "group_key": "accession", "group_by": "record",
                "seed": 1, "leakage": {"groups_in_two_splits": [], "ok": True}}, tmp_path / "split.json")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    dirs = []
    for name, noise in (("good", 0.2), ("weak", 2.0)):
        logits = np.stack([-(y - 0.5), y - 0.5], 1) + rng.normal(0, noise, (40, 2))
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        model_dir, eval_dir = tmp_path / "models" / name, tmp_path / "eval" / name
        write_json({"model": name, "arch": "cnn", "settings": {"note": HOSTILE}, "seed": 1, "config_hash": "abc",
                    "train_counts": {"exon": 5, "intron": 5}, "imbalance": "class_weighted_loss",
                    "best_epoch": 2, "epochs_run": 3, "resumed": False, "train_seconds": 1.0,
                    "versions": {"torch": "x"}, "git_commit": "", "hardware": {"device": "cpu", "machine": "x",
                                                                                  "system": "Linux"},
                    "started_at": "s", "finished_at": "f"}, model_dir / "run.json")
        write_tsv(pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [0.7, 0.5, 0.4], "val_loss": [0.7, 0.6, 0.65],
                                "val_auroc": [0.6, 0.7, 0.7], "val_acc": [0.5, 0.6, 0.6], "lr": [1e-3] * 3}),
                  model_dir / "history.tsv")
        write_json({"model": name, "arch": "cnn", "classes": ["exon", "intron"], **compute_metrics(y, probs, ["exon", "intron"])},
                   eval_dir / "metrics.json")
        dirs.append((model_dir, eval_dir))
    return dirs


def test_report_is_self_contained_and_escaped(tmp_path):
    dirs = write_inputs(tmp_path)
    out = tmp_path / "report" / "index.html"
    run_report("demo", tmp_path / "manifest.tsv", tmp_path / "extract.json", tmp_path / "split.json",
               [d for d, _ in dirs], [e for _, e in dirs], out, log=lambda *a: None)
    html = out.read_text()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script") == 0
    sources = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://", html.split("<body>", 1)[1])
    # leaderboard: best model first and marked
    first_row = re.search(r'<tr class="best"><td>(\w+)</td>', html).group(1)
    assert first_row == "good"


def test_leaderboard_orders_by_auroc_with_missing_last():
    evals = {"a": {"arch": "cnn", "auroc": 0.7}, "b": {"arch": "cnn", "auroc": None},
             "c": {"arch": "kmer", "auroc": 0.9}}
    assert [r["model"] for r in leaderboard(evals)] == ["c", "a", "b"]
