"""The report's section on pretraining, fine-tuned vs from-scratch encoders, embedding clusters and GANs.

:func:`render_section` reads the files the pretrain, embed and gan stages write (passed as paths:
``pretrain/history.tsv``, ``embeddings/clusters.json``, ``gan/{class}/quality.json``) and returns an
HTML fragment for the report page; figures are inline PNG data URIs.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from genomedl.generation import figures as gan_figures
from genomedl.html import environment
from genomedl.reporting import embedding_figures as figures
from genomedl.tables import read_json, read_tsv


def finetune_rows(runs: dict, evals: dict) -> list[dict]:
    """One row per ``bert`` model: encoder, pretrained or from scratch, and its test metrics."""
    rows = []
    for name, run in sorted(runs.items()):
        if run.get("arch") != "bert" or name not in evals:
            continue
        settings, e = run["settings"], evals[name]
        rows.append(
            {
                "model": name,
                "encoder": settings.get("encoder"),
                "init": "from scratch" if settings.get("from_scratch") else "pretrained",
                "best_epoch": run.get("best_epoch"),
                "seconds": run.get("train_seconds"),
                **{m: e.get(m) for m in ("auroc", "auprc", "mcc", "balanced_accuracy")},
            }
        )
    return rows


def build(paths: list[Path], runs: dict, evals: dict) -> dict:
    """Template context from the stage outputs in ``paths``."""
    context = {"pretrain": None, "clusters": None, "gans": [], "finetuned": finetune_rows(runs, evals)}
    for path in map(Path, paths):
        if path.name == "history.tsv":  # the pretrain stage's (run.json beside it)
            history, run = read_tsv(path), read_json(path.parent / "run.json")
            context["pretrain"] = {
                "run": run,
                "final": history.iloc[-1].to_dict(),
                "figure": figures.mlm_curves(history, run.get("majority_token_accuracy")),
            }
        elif path.name == "clusters.json":
            clusters = read_json(path)
            context["clusters"] = {**clusters, "figure": figures.clusters(clusters)}
        elif path.name == "quality.json":
            quality = read_json(path)
            history = read_tsv(path.parent / "history.tsv")
            context["gans"].append(
                {
                    **quality,
                    "figures": {
                        "quality": gan_figures.quality(quality),
                        "training": gan_figures.training(quality["class"], history),
                    },
                }
            )
    return context


def render_section(paths: list[Path], runs: dict, evals: dict) -> Markup:
    """HTML fragment of the section (empty when there is nothing to show)."""
    context = build(paths, runs, evals)
    if not (context["pretrain"] or context["clusters"] or context["gans"] or context["finetuned"]):
        return Markup("")
    return Markup(environment().get_template("_lm_section.html.j2").render(**context))
