"""Report stage: self-contained HTML, strings escaped, leaderboard ordered."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from genomedl.evaluate import compute_metrics
from genomedl.evaluate.compare import leaderboard
from genomedl.fetch.manifest import MANIFEST_COLUMNS, manifest_row
from genomedl.report import composition, figures, plot_training, run_index, run_report
from genomedl.tables import read_json, write_json, write_tsv

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
    tokens = rng.integers(0, 4, (40, 50), dtype=np.uint8)
    tokens[:20, :25] = rng.choice([1, 2], (20, 25))           # exon windows GC-rich in their first half
    tokens[:5, -10:] = 4                                      # and 10 N at the end of five of them
    np.save(tmp_path / "tokens.npy", tokens)
    ids = [f"w{i} desc {HOSTILE}" for i in range(40)]
    write_tsv(pd.DataFrame({"id": ids, "label": ["exon"] * 20 + ["intron"] * 20, "gene": f"g {HOSTILE}"}),
              tmp_path / "labels.tsv")
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
        write_tsv(pd.DataFrame({"id": ids, "label": np.array(["exon", "intron"])[y], "p_exon": probs[:, 0],
                                "p_intron": probs[:, 1]}), eval_dir / "predictions.tsv")
        evaluation = read_json(eval_dir / "metrics.json")
        figures.save(figures.roc_pr({name: evaluation}, ["exon", "intron"]), eval_dir / "roc_pr.png")
        figures.save(figures.calibration({name: evaluation}), eval_dir / "calibration.png")
        figures.save(figures.confusion(name, evaluation), eval_dir / "confusion.png")
        plot_training(model_dir / "history.tsv", model_dir / "run.json", model_dir / "training.png")
        dirs.append((model_dir, eval_dir))
    return dirs


def make_report(tmp_path, dataset="demo", interpret_dirs=()):
    dirs = write_inputs(tmp_path)
    out = tmp_path / "report" / "index.html"
    run_report(dataset, tmp_path / "manifest.tsv", tmp_path / "extract.json", tmp_path / "split.json",
               [d for d, _ in dirs], [e for _, e in dirs], out, tokens=tmp_path / "tokens.npy",
               labels=tmp_path / "labels.tsv", interpret_dirs=interpret_dirs,
               run_config={"note": HOSTILE}, leaderboard_out=tmp_path / "report" / "leaderboard.tsv",
               overview_out=tmp_path / "report" / "overview.png", n_boot=200, log=lambda *a: None)
    return out


def test_report_is_self_contained_and_escaped(tmp_path):
    out = make_report(tmp_path)
    html = out.read_text()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script") == 0
    sources = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://", html.split("<body>", 1)[1])
    # leaderboard: best model first and marked
    first_row = re.search(r'<tr class="best"><td class="num">1</td><td>(\w+)</td>', html).group(1)
    assert first_row == "good"
    table = pd.read_csv(tmp_path / "report" / "leaderboard.tsv", sep="\t")
    assert table["model"].tolist() == ["good", "weak"] and table.loc[1, "paired_p"] < 0.05


def test_composition_counts_called_bases_and_gc(tmp_path):
    write_inputs(tmp_path)
    stats = composition(tmp_path / "tokens.npy", tmp_path / "labels.tsv")
    assert stats["length"].tolist()[:6] == [40] * 5 + [50]
    tokens = np.load(tmp_path / "tokens.npy")
    gc = ((tokens[7] == 1) | (tokens[7] == 2)).mean()
    assert np.isclose(stats.loc[7, "gc"], gc)
    assert stats.groupby("label")["gc"].mean()["exon"] > stats.groupby("label")["gc"].mean()["intron"]


def test_index_links_each_dataset_relatively(tmp_path):
    reports = [tmp_path / "results" / d / "report" / "index.html" for d in ("a", f"b{HOSTILE}")]
    run_index(reports, tmp_path / "results" / "index.html")
    html = (tmp_path / "results" / "index.html").read_text()
    assert 'href="a/report/index.html"' in html and HOSTILE not in html


def test_leaderboard_orders_by_auroc_falling_back_to_mcc():
    evals = {"a": {"arch": "cnn", "auroc": 0.7, "mcc": 0.1}, "b": {"arch": "cnn", "auroc": 0.6, "mcc": 0.5},
             "c": {"arch": "kmer", "auroc": 0.9, "mcc": 0.2}}
    assert [r["model"] for r in leaderboard(evals)] == ["c", "a", "b"]
    evals["c"]["auroc"] = None                              # a class missing: AUROC undefined for one model
    assert [r["model"] for r in leaderboard(evals)] == ["b", "c", "a"]


def test_sweep_winner_and_epoch_counts_are_shown(tmp_path):
    write_inputs(tmp_path)
    for name, score in (("good", 0.9), ("weak", 0.2)):  # one sweep group; the lower val loss wins
        path = tmp_path / "models" / name / "run.json"
        run = json.loads(path.read_text())
        run.update(sweep={"group": "cnn"}, best_score=score, monitor_mode="min",
                   epoch_class_counts={"exon": 7, "intron": 3})
        path.write_text(json.dumps(run))
    out = tmp_path / "report" / "index.html"
    run_report("demo", tmp_path / "manifest.tsv", tmp_path / "extract.json", tmp_path / "split.json",
               [tmp_path / "models" / n for n in ("good", "weak")], [tmp_path / "eval" / n for n in ("good", "weak")],
               out, tokens=tmp_path / "tokens.npy", labels=tmp_path / "labels.tsv", n_boot=50, log=lambda *a: None)
    html = out.read_text()
    assert re.search(r"<td>weak <span[^>]*>★ best of sweep</span></td>", html)
    assert "<td>good <span" not in html
    assert "windows seen per epoch: 7 exon, 3 intron" in html
