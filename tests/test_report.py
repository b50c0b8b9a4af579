"""Report stage: self-contained HTML, strings escaped, leaderboard ordered."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from genomedl.evaluate.compare import leaderboard
from genomedl.report import composition, run_index, run_report
from helpers import HOSTILE, make_report, write_inputs


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
    evals = {
        "a": {"arch": "cnn", "auroc": 0.7, "mcc": 0.1},
        "b": {"arch": "cnn", "auroc": 0.6, "mcc": 0.5},
        "c": {"arch": "kmer", "auroc": 0.9, "mcc": 0.2},
    }
    assert [r["model"] for r in leaderboard(evals)] == ["c", "a", "b"]
    evals["c"]["auroc"] = None  # a class missing: AUROC undefined for one model
    assert [r["model"] for r in leaderboard(evals)] == ["b", "c", "a"]


def test_sweep_winner_and_epoch_counts_are_shown(tmp_path):
    write_inputs(tmp_path)
    for name, score in (("good", 0.9), ("weak", 0.2)):  # one sweep group; the lower val loss wins
        path = tmp_path / "models" / name / "run.json"
        run = json.loads(path.read_text())
        run.update(
            sweep={"group": "cnn"}, best_score=score, monitor_mode="min", epoch_class_counts={"exon": 7, "intron": 3}
        )
        path.write_text(json.dumps(run))
    out = tmp_path / "report" / "index.html"
    run_report(
        "demo",
        tmp_path / "manifest.tsv",
        tmp_path / "extract.json",
        tmp_path / "split.json",
        [tmp_path / "models" / n for n in ("good", "weak")],
        [tmp_path / "eval" / n for n in ("good", "weak")],
        out,
        tokens=tmp_path / "tokens.npy",
        labels=tmp_path / "labels.tsv",
        settings={"bootstrap": 50},
        seed=0,
        log=lambda *a: None,
    )
    html = out.read_text()
    assert re.search(r"<td>weak <span[^>]*>★ best of sweep</span></td>", html)
    assert "<td>good <span" not in html
    assert "windows seen per epoch: 7 exon, 3 intron" in html
