"""Where every file of a run lives: ``results/{dataset}/<folder>/<file>``. Torch-free; the workflow's rules and
:mod:`genomedl.config.resolve` spell every results path through :func:`path`, so the layout lives here alone.

Values left out stay Snakemake wildcards (``path("model", "run.json")`` is
``results/{dataset}/models/{model}/run.json``); ``dataset="{{dataset}}"`` keeps the dataset wildcard through an
``expand()``.
"""

from __future__ import annotations

import string
from pathlib import Path

RESULTS = "results"
FOLDERS = {
    "dataset": "",  # sequences.fa.gz (+ .fai, .gzi), labels.tsv, extract_summary.json, split.tsv, split_summary.json
    "raw": "raw",  # fetch: records.gb.gz, manifest.tsv, genes.json
    "parts": "extract_parts",  # groups.json of a scattered reference
    "part": "extract_parts/{part}",  # windows.npy, labels.tsv, summary.json of one group of sequences
    "encoded": "encoded",  # tokens.npy, meta.json, kmer{k}_{stride}.npy (+ .vocab.json)
    "fold_split": "splits/fold{fold}",  # split.tsv, split_summary.json of a k-fold split
    "qc": "qc",  # qc.json, split.tsv (under split.dedupe near)
    "model": "models/{model}",  # model.ckpt or model.npz, history.tsv, run.json, training.png
    "fold": "models/{model}/fold{fold}",  # the same, for a model trained on fold f of a k-fold split
    "search": "search/{model}",  # settings.json, trials.tsv, best.json, study.journal
    "trial": "search/{model}/trial{trial}",  # params.json, value.json, model/
    "pretrain": "pretrain",  # encoder/, history.tsv, run.json
    "embeddings": "embeddings",  # clusters.json
    "gan": "gan/{label}",  # generator.pt, generated.fa, history.tsv, quality.json
    "eval": "eval/{model}",  # predictions.tsv, metrics.json, metrics.tsv, figures
    "evaluation": "evaluation",  # transfer.json, ensemble.json, ensemble/
    "interpret": "interpret/{model}",  # attributions.npz, motifs.tsv, motifs.meme, interpretation.json, figures
    "reference": "reference",  # records.fa.gz (+ .fai, .gzi): fetched records to predict on
    "predict": "predict/{model}/{query}",  # windows.tsv or variants.tsv/.vcf.gz, tracks/, summary.json
    "export": "export/{model}",  # model.pt, model.safetensors, config.json, model_card.json/.md
    "report": "report",  # index.html, leaderboard.tsv, overview.png
    "benchmarks": "benchmarks",  # Snakemake's benchmark tables of every job
}


class _Wildcards(dict):
    """Format fields left out stay ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def path(folder: str, name: str = "", dataset: str = "{dataset}", **values) -> str:
    """``results/{dataset}/<folder>/<name>`` with ``values`` (model, fold, ...) filled in, the rest left as
    wildcards; ``folder`` is a key of :data:`FOLDERS`."""
    template = "/".join(p for p in (RESULTS, "{dataset}", FOLDERS[folder], name) if p)
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return template.format_map(_Wildcards({"dataset": dataset, **{k: v for k, v in values.items() if k in fields}}))


def index_page() -> str:
    """The page that links every dataset's report."""
    return f"{RESULTS}/index.html"


def dataset_of(tokens: str | Path) -> str:
    """The dataset a token file belongs to (the inverse of ``path("encoded", "tokens.npy", dataset)``)."""
    return Path(tokens).resolve().parent.parent.name
