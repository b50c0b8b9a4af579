"""Report stage: one self-contained HTML page per dataset (figures inlined, no network requests),
its leaderboard as TSV, and an index page linking the datasets' pages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from genomedl import plotting
from genomedl.atomic import atomic_write
from genomedl.config import stage_settings
from genomedl.config.sweep import sweep_winners
from genomedl.html import environment
from genomedl.reporting.experiments import ensemble_table, search_entries, transfer_table
from genomedl.reporting.lm_section import render_section
from genomedl.reporting.matrix import metric_matrix
from genomedl.reporting.model_cards import card_entries
from genomedl.reporting.models import interpretation, model_entries
from genomedl.reporting.predictions import prediction_entries
from genomedl.reporting.qc import qc_entries
from genomedl.stats.compare import leaderboard as leaderboard_rows
from genomedl.stats.compare import leaderboard_table, versus_baseline
from genomedl.tables import read_json, read_tsv, write_tsv


def composition(tokens: Path, labels: Path) -> pd.DataFrame:
    """Per window: label, called bases (A/C/G/T, not N) and GC fraction of the called bases."""
    toks = np.load(tokens, mmap_mode="r")
    called = (toks < 4).sum(1)
    gc = ((toks == 1) | (toks == 2)).sum(1)
    frame = read_tsv(labels)
    return pd.DataFrame(
        {
            "label": frame["label"].to_numpy(),
            "length": called,
            "gc": np.where(called > 0, gc / np.maximum(called, 1), np.nan),
        }
    )


def plot_training(history: Path, run: Path, out: Path) -> None:
    """training.png of one model from its history.tsv and run.json."""
    run_info = read_json(run)
    plotting.save(plotting.training_curves(run_info["model"], read_tsv(history), run_info), out)


def build_context(
    dataset: str,
    manifest: Path,
    extract_summary: Path,
    split_summary: Path,
    model_dirs: list[Path],
    eval_dirs: list[Path],
    tokens: Path,
    labels: Path,
    interpret_dirs: list[Path],
    run_config: dict | None,
    n_boot: int,
    seed: int,
) -> dict:
    """Everything the template shows; ``leaderboard_frame`` and ``overview`` figure are written beside it."""
    runs = {d.name: read_json(d / "run.json") for d in model_dirs}
    evals = {d.name: read_json(d / "metrics.json") for d in eval_dirs}
    predictions = {d.name: read_tsv(d / "predictions.tsv") for d in eval_dirs if (d / "predictions.tsv").exists()}
    extraction = read_json(extract_summary)
    classes = extraction["classes"]
    label_table = read_tsv(labels)
    rows = leaderboard_rows(evals, predictions, n_boot=n_boot, seed=seed)
    stats = composition(tokens, labels)
    interpretations = {d.name: interpretation(d, label_table) for d in interpret_dirs}
    return {
        "dataset": dataset,
        "manifest": read_tsv(manifest).to_dict("records"),
        "extraction": extraction,
        "split": read_json(split_summary),
        "classes": classes,
        "composition": stats.groupby("label")
        .agg(windows=("length", "size"), mean_length=("length", "mean"), mean_gc=("gc", "mean"))
        .reindex(classes)
        .reset_index()
        .to_dict("records"),
        "leaderboard": rows,
        "versus_baseline": versus_baseline(rows, evals, predictions, n_boot, seed),
        "sweep_winners": set(sweep_winners(runs).values()),
        "leaderboard_frame": leaderboard_table(rows),
        "overview": plotting.composition(stats, classes),
        "models": model_entries(rows, evals, runs, eval_dirs, model_dirs, interpretations),
        "runs": runs,
        "evals": evals,
        "run_config": yaml.safe_dump(run_config or {}, sort_keys=False),
        "figures": {"curves": plotting.roc_pr(evals, classes), "calibration": plotting.calibration(evals)},
    }


def render(context: dict) -> str:
    return environment().get_template("report.html.j2").render(**context)


def run_report(
    dataset: str,
    manifest: Path,
    extract_summary: Path,
    split_summary: Path,
    model_dirs: list[Path],
    eval_dirs: list[Path],
    out: Path,
    *,
    tokens: Path,
    labels: Path,
    settings: dict,
    seed: int,
    interpret_dirs=(),
    run_config: dict | None = None,
    leaderboard: Path | None = None,
    overview: Path | None = None,
    lm_files=(),
    predict_dirs=(),
    model_cards=(),
    qc: Path | None = None,
    transfer: Path | None = None,
    ensemble: Path | None = None,
    search_dirs=(),
    log=print,
) -> None:
    """Write the dataset's report ``out`` (one self-contained HTML file), the leaderboard TSV and the overview
    PNG. ``settings``: schema section ``evaluate`` (resamples of the paired bootstrap test, seeded by ``seed``).
    Optional sections: ``transfer`` (transfer.json), ``ensemble`` (ensemble.json), ``search_dirs`` (folders with
    trials.tsv and best.json)."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    out_html, leaderboard_out, overview_out = out, leaderboard, overview
    context = build_context(
        dataset,
        manifest,
        extract_summary,
        split_summary,
        model_dirs,
        eval_dirs,
        tokens,
        labels,
        list(interpret_dirs),
        run_config,
        n_boot,
        seed,
    )
    if lm_files:  # language models, embeddings and GANs (genomedl.reporting.lm_section)
        context["lm_section"] = render_section(lm_files, context["runs"], context["evals"])
    if predict_dirs:  # predictions and variant effects (report.predictions)
        context["predictions"] = prediction_entries(list(predict_dirs), out_html)
    if model_cards:  # exported models (report.model_cards)
        context["model_cards"] = card_entries(list(model_cards), out_html)
    if qc:  # the quality gate (report.qc)
        context["qc"] = qc_entries(qc, context["leaderboard"])
    # models across datasets, k-fold ensembles and hyperparameter searches (report.experiments)
    context["transfer"] = transfer_table(transfer) if transfer else None
    context["ensemble"] = ensemble_table(ensemble) if ensemble else None
    context["search"] = search_entries(list(search_dirs))
    if overview_out:
        plotting.save(context["overview"], overview_out)
    context["overview"] = plotting.data_uri(overview_out or context["overview"])
    if leaderboard_out:
        write_tsv(context["leaderboard_frame"], leaderboard_out)
    html = render(context)
    with atomic_write(out_html, encoding="utf-8") as handle:
        handle.write(html)
    log(f"report: {out_html}")


def run_index(reports: list[Path], out: Path, leaderboards=()) -> None:
    """Index page ``out`` linking each dataset's report (relative links; dataset = the report's grandparent folder)
    and, given their ``leaderboards`` (leaderboard.tsv in the same folders), the dataset x model matrix of each
    dataset's ranking metric with its winner marked."""
    out_html = out
    entries = [
        {"dataset": Path(r).parent.parent.name, "href": Path(os.path.relpath(r, Path(out_html).parent)).as_posix()}
        for r in reports
    ]
    matrix = metric_matrix({Path(p).parent.parent.name: Path(p) for p in leaderboards})
    hrefs = {e["dataset"]: e["href"] for e in entries}
    for row in matrix["rows"]:
        row["href"] = hrefs.get(row["dataset"])
    html = environment().get_template("index.html.j2").render(entries=entries, matrix=matrix)
    with atomic_write(out_html, encoding="utf-8") as handle:
        handle.write(html)
