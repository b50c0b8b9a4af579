"""Report stage: self-contained HTML, strings escaped, leaderboard ordered."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from genomedl import plotting
from genomedl.stages.report import composition, run_index, run_report
from genomedl.stats.compare import leaderboard
from genomedl.tables import write_json, write_tsv
from helpers import HOSTILE, make_report, report_of, write_inputs


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


def test_index_links_each_dataset_relatively_and_marks_each_winner(tmp_path):
    """The dataset x model matrix of each dataset's ranking metric, from leaderboard.tsv files written here."""
    results = tmp_path / "results"
    boards = {
        "a": ("auroc", [("cnn", 0.91, 0.88, 0.94), ("kmer", 0.85, 0.8, 0.9)]),
        f"b{HOSTILE}": ("mcc", [("kmer", 0.41, 0.3, 0.5), ("cnn", 0.22, 0.1, 0.3), ("bert", 0.1, 0.0, 0.2)]),
    }
    for dataset, (metric, rows) in boards.items():
        frame = pd.DataFrame(rows, columns=["model", metric, f"{metric}_ci_low", f"{metric}_ci_high"])
        frame.insert(0, "rank", range(1, len(rows) + 1))
        write_tsv(frame.assign(ranked_by=metric), results / dataset / "report" / "leaderboard.tsv")
    reports = [results / d / "report" / "index.html" for d in boards]
    run_index(reports, results / "index.html", leaderboards=[r.with_name("leaderboard.tsv") for r in reports])
    html = (results / "index.html").read_text()
    assert 'href="a/report/index.html"' in html and HOSTILE not in html
    header, first, second = re.findall(r"<tr>(.*?)</tr>", html, re.S)[:3]
    assert re.findall(r"<th>(\w+)</th>", header) == ["dataset", "metric", "cnn", "kmer", "bert"]  # first appearance
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", first, re.S)]
    assert cells == [["a"], ["AUROC"], ["0.910", "[0.880,", "0.940]"], ["0.850", "[0.800,", "0.900]"], ["–"]]
    assert re.findall(r'<td class="num winner">([0-9.]+)', first) == ["0.910"]
    assert re.findall(r'<td class="num winner">([0-9.]+)', second) == ["0.410"] and "MCC" in second


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


def transfer_row(model: str, on: str, split: str, n: int, auroc: list, mcc: list, accuracy: list) -> dict:
    """One row of transfer.json for a model trained on "demo" (values: [value, low, high])."""
    where = {"model": model, "trained_on": "demo", "evaluated_on": on, "split": split, "n": n}
    return where | {"in_dataset": on == "demo", "auroc": auroc, "mcc": mcc, "accuracy": accuracy}


def test_transfer_ensemble_and_search_renderers(tmp_path):
    """Renderer tests: small transfer.json, ensemble.json, trials.tsv and best.json written here (agreed formats)
    appear as tables with their numbers in the right cells."""
    extra = tmp_path / "extra"
    write_json(
        {
            "metric": "auroc",
            "rows": [
                transfer_row("good", "demo", "test", 40, [0.91, 0.85, 0.96], [0.6, 0.4, 0.7], [0.8, 0.7, 0.9]),
                transfer_row("good", "fly", "all", 120, [0.72, 0.65, 0.79], [0.3, 0.2, 0.4], [0.6, 0.5, 0.7]),
                transfer_row("weak", "demo", "test", 40, [0.55, 0.45, 0.66], [0.1, 0.0, 0.2], [0.5, 0.4, 0.6]),
            ],
        },
        extra / "transfer.json",
    )
    fold = [
        {"fold": i, "auroc": [v, v - 0.05, v + 0.05], "mcc": [0.3] * 3, "accuracy": [0.7] * 3}
        for i, v in enumerate((0.80, 0.86, 0.83))
    ]
    write_json(
        {
            "metric": "auroc",
            "k": 3,
            "models": [
                {
                    "model": "good",
                    "folds": fold,
                    "gain": {"auroc": [0.05, 0.01, 0.09]},
                    "ensemble": {"auroc": [0.88, 0.84, 0.92], "mcc": [0.5] * 3, "accuracy": [0.8] * 3},
                }
            ],
        },
        extra / "ensemble.json",
    )
    search = extra / "search" / "good"
    trials = pd.DataFrame(
        {
            "trial": [2, 0, 1],
            "state": ["COMPLETE", "COMPLETE", "FAIL"],
            "value": [0.81, 0.77, None],
            "lr": [0.001, 0.01, 0.0003],
            "act": ["relu", HOSTILE, "gelu"],
        }
    )
    write_tsv(trials, search / "trials.tsv")
    write_json(
        {
            "model": "good",
            "metric": "val_auroc",
            "best_trial": 2,
            "value": 0.81,
            "params": {"lr": 0.001, "act": "relu"},
            "seed": 7,
            "budget": 3,
        },
        search / "best.json",
    )
    out = report_of(
        tmp_path,
        write_inputs(tmp_path),
        settings={"bootstrap": 20},
        transfer=extra / "transfer.json",
        ensemble=extra / "ensemble.json",
        search_dirs=[search],
    )
    html = out.read_text()
    assert HOSTILE not in html

    def section(anchor):
        return html.split(f'<h2 id="{anchor}">', 1)[1].split("</details>", 1)[0]

    def rows(part):
        return [
            [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", part, re.S)
            if "<td" in r
        ]

    transfer = section("transfer")
    assert re.findall(r"<th>([\w: -]+)<br>", transfer) == ["in-dataset: demo", "fly"] and "all, n = 120" in transfer
    assert rows(transfer) == [
        [["good"], ["0.910", "[0.850,", "0.960]"], ["0.720", "[0.650,", "0.790]"]],
        [["weak"], ["0.550", "[0.450,", "0.660]"], ["–"]],
    ]
    assert rows(section("ensembles")) == [
        [
            ["good"],
            ["3"],
            ["0.800", "–", "0.860"],
            ["0.830"],
            ["0.880", "[0.840,", "0.920]"],
            ["0.050", "[0.010,", "0.090]"],
        ]
    ]
    search_part = section("search")
    assert "chosen: trial 2 (0.810) with lr = 0.001, act = relu" in search_part
    assert rows(search_part) == [
        [["0"], ["COMPLETE"], ["0.770"], ["0.01"], ["&lt;script&gt;alert(1)&lt;/script&gt;"]],
        [["1"], ["FAIL"], ["–"], ["0.0003"], ["gelu"]],
        [["2", "★"], ["COMPLETE"], ["0.810"], ["0.001"], ["relu"]],
    ]
    assert search_part.count('<tr class="best">') == 1


def test_sections_a_model_cannot_have_are_left_out_and_noted(tmp_path):
    """A model without training curves and an interpreted model without one-hot input: no placeholder figure,
    its leaderboard row says why; the figures it has are shown."""
    dirs = write_inputs(tmp_path)
    (tmp_path / "models" / "weak" / "training.png").unlink()
    folder = tmp_path / "interpret" / "good"
    folder.mkdir(parents=True)
    np.savez(folder / "attributions.npz", ids=np.array(["w1 desc x"]))
    plotting.save(plotting.plt.figure(), folder / "attention.png")
    for name in ("attributions", "motifs", "filters"):
        plotting.save(None, folder / f"{name}.png")  # what the interpret stage leaves for a k-mer model
    write_json(
        {
            "model": "good",
            "arch": "bert",
            "sequences": 1,
            "seed": 1,
            "methods": [],
            "motifs_from": None,
            "notes": ["no one-hot input"],
            "attention": True,
            "motifs": [],
            "jaspar": {"release": "J", "collection": "CORE", "tax_groups": ["plants"], "motifs": 1},
        },
        folder / "interpretation.json",
    )
    html = report_of(tmp_path, dirs, settings={"bootstrap": 20}, interpret_dirs=[folder]).read_text()
    board = html.split('<table class="board">', 1)[1].split("</table>", 1)[0]
    notes = dict(re.findall(r'<td>(\w+)</td>.*?<td class="note">([^<]*)</td>', board, re.S))
    assert notes == {"good": "k-mer input: no attributions", "weak": "no epochs"}
    good = html.split('id="model-good"', 1)[1].split('id="model-weak"', 1)[0]
    weak = html.split('id="model-weak"', 1)[1].split('class="section"', 1)[0]
    assert re.findall(r'alt="(\w+) of good"', good) == ["roc_pr", "calibration", "confusion", "training", "attention"]
    assert re.findall(r'alt="(\w+) of weak"', weak) == ["roc_pr", "calibration", "confusion"]
    assert "not available" not in html


def test_a_model_at_chance_is_flagged_in_the_leaderboard_and_its_restarts_noted(tmp_path):
    """A collapsed network (constant probabilities) is ranked with a visible flag, never silently."""
    from genomedl.stats.scores import compute_metrics
    from genomedl.tables import read_json

    dirs = write_inputs(tmp_path)
    predictions = pd.read_csv(tmp_path / "eval" / "weak" / "predictions.tsv", sep="\t")
    predictions[["p_exon", "p_intron"]] = 0.5
    write_tsv(predictions, tmp_path / "eval" / "weak" / "predictions.tsv")
    y = (predictions["label"] == "intron").to_numpy(int)
    metrics = compute_metrics(y, np.full((len(y), 2), 0.5), ["exon", "intron"])
    write_json(
        {"model": "weak", "arch": "cnn", "classes": ["exon", "intron"], **metrics, "ci": {"auroc": [0.5, 0.5]}},
        tmp_path / "eval" / "weak" / "metrics.json",
    )
    run = read_json(tmp_path / "models" / "weak" / "run.json")
    write_json(
        {**run, "restarts": [{"attempt": 1, "lr": 0.001, "seed": 1, "reason": "x"}]},
        tmp_path / "models" / "weak" / "run.json",
    )
    board_tsv = tmp_path / "report" / "leaderboard.tsv"
    html = report_of(tmp_path, dirs, settings={"bootstrap": 20}, leaderboard=board_tsv).read_text()
    board = html.split('<table class="board">', 1)[1].split("</table>", 1)[0]
    assert re.search(r'<td>weak <span class="warn"[^>]*>⚠ chance level</span>', board)
    assert '<td>good <span class="warn"' not in board
    assert "training collapsed and restarted 1x" in board.split("<td>weak", 1)[1]
    table = pd.read_csv(board_tsv, sep="\t")
    assert table.set_index("model")["chance_level"].to_dict() == {"good": False, "weak": True}


def test_novel_test_windows_calibration_and_chosen_c_are_shown(tmp_path):
    """metrics.json with a novel part and a temperature, run.json with a C search: the report shows each."""
    from genomedl.tables import read_json

    dirs = write_inputs(tmp_path)
    for model, auroc in (("good", 0.91), ("weak", 0.62)):
        metrics = read_json(tmp_path / "eval" / model / "metrics.json")
        scores = {"log_loss": 0.5, "brier": 0.2, "ece": 0.08}
        metrics["novel"] = {"n": 30, "near": 10, "auroc": auroc, "mcc": 0.5, "accuracy": 0.8, "ci": {"auroc": [0.8, 1]}}
        metrics["temperature"] = {"value": 0.61, "test_before": scores, "test_after": {**scores, "ece": 0.02}}
        write_json(metrics, tmp_path / "eval" / model / "metrics.json")
    run = read_json(tmp_path / "models" / "weak" / "run.json")
    write_json({**run, "C": 0.01, "C_search": {"0.001": 0.7, "0.01": 0.75}}, tmp_path / "models" / "weak" / "run.json")
    html = report_of(tmp_path, dirs, settings={"bootstrap": 20}).read_text()
    novel = html.split('<h3 id="novel">', 1)[1].split("</table>", 1)[0]
    assert "found 10 of 40 test windows" in novel
    assert re.search(r"<td>good</td><td class=\"num\">30</td><td class=\"num\">0.910", novel), novel
    assert "<td>weak</td>" in novel
    assert "temperature of 0.610 fitted on the validation split (test ECE 0.080 as trained, 0.020 calibrated" in html
    assert "Regularisation: C 0.01, the best validation AUROC of C 0.001: 0.700, C 0.01: 0.750." in html
