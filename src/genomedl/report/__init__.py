"""Report stage: one self-contained HTML page per dataset (figures inlined, no network requests)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from ..atomic import atomic_write
from ..tables import read_json, read_tsv
from . import figures

LEADERBOARD_METRICS = ["auroc", "auprc", "f1", "mcc", "balanced_accuracy", "accuracy"]


def leaderboard(evals: dict[str, dict]) -> list[dict]:
    """Rows sorted by AUROC (missing values last), one per model or baseline."""
    rows = [{"model": name, "arch": e["arch"], **{m: e.get(m) for m in LEADERBOARD_METRICS}}
            for name, e in evals.items()]
    return sorted(rows, key=lambda r: (r["auroc"] is None, -(r["auroc"] or 0), r["model"]))


def build_context(dataset: str, manifest: Path, extract_summary: Path, split_summary: Path,
                  model_dirs: list[Path], eval_dirs: list[Path]) -> dict:
    runs = {d.name: read_json(d / "run.json") for d in model_dirs}
    evals = {d.name: read_json(d / "metrics.json") for d in eval_dirs}
    histories = {d.name: read_tsv(d / "history.tsv") for d in model_dirs if (d / "history.tsv").exists()}
    extraction = read_json(extract_summary)
    classes = extraction["classes"]
    return {
        "dataset": dataset,
        "manifest": read_tsv(manifest).to_dict("records"),
        "extraction": extraction,
        "split": read_json(split_summary),
        "classes": classes,
        "leaderboard": leaderboard(evals),
        "evals": evals,
        "runs": runs,
        "figures": {
            "curves": figures.roc_pr(evals, classes),
            "training": {name: figures.training_curves(name, h) for name, h in histories.items()},
            "confusion": {name: figures.confusion(name, e) for name, e in evals.items()},
        },
    }


def render(context: dict) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("genomedl.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["num"] = lambda v, digits=3: "–" if v is None or pd.isna(v) else f"{v:.{digits}f}"
    return env.get_template("report.html.j2").render(**context)


def run_report(dataset: str, manifest: Path, extract_summary: Path, split_summary: Path,
               model_dirs: list[Path], eval_dirs: list[Path], out_html: Path, log=print) -> None:
    html = render(build_context(dataset, manifest, extract_summary, split_summary, model_dirs, eval_dirs))
    with atomic_write(out_html, encoding="utf-8") as handle:
        handle.write(html)
    log(f"report: {out_html}")
