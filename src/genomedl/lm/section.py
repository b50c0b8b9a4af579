"""The report's section on pretraining, fine-tuned vs from-scratch encoders, embedding clusters and GANs.

:func:`render_section` reads the files the pretrain, embed and gan stages write (passed as paths:
``pretrain/history.tsv``, ``embeddings/clusters.json``, ``gan/{class}/quality.json``) and returns an
HTML fragment for the report page; figures are inline PNG data URIs.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from ..gan import figures as gan_figures
from ..tables import read_json, read_tsv
from . import figures

TEMPLATE = """
<h2 id="language-models">Language models, embeddings and generated sequences</h2>
{% if pretrain %}
<h3>BERT pretraining (masked language model)</h3>
<p>{{ pretrain.run.windows.train_split }} train-split windows{% if pretrain.run.windows.extra_fasta %} and
{{ pretrain.run.windows.extra_fasta }} windows of extra FASTA{% endif %} ({{ pretrain.run.windows.held_out }} held out),
k = {{ pretrain.run.settings.k }} ({{ "overlapping, whole-k-mer masking" if pretrain.run.settings.overlapping else "non-overlapping" }}),
{{ pretrain.run.parameters }} parameters, {{ pretrain.run.train_seconds }} s.
Final held-out MLM loss {{ num(pretrain.final.val_mlm_loss) }}, accuracy {{ num(pretrain.final.val_mlm_acc) }}
(always predicting the most frequent token: {{ num(pretrain.run.majority_token_accuracy) }}).</p>
<figure><img src="{{ pretrain.figure }}" alt="MLM loss and accuracy per epoch"><figcaption>Masked-LM loss and accuracy on masked tokens per epoch; held-out windows come from the train split only.</figcaption></figure>
{% endif %}
{% if finetuned %}
<h3>Fine-tuned encoder vs the same architecture trained from scratch (test split)</h3>
<table><tr><th>model</th><th>encoder</th><th>initialisation</th><th>AUROC</th><th>AUPRC</th><th>MCC</th><th>balanced accuracy</th><th>best epoch</th><th>seconds</th></tr>
{% for r in finetuned %}<tr><td>{{ r.model }}</td><td><code>{{ r.encoder }}</code></td><td>{{ r.init }}</td><td class="num">{{ num(r.auroc) }}</td><td class="num">{{ num(r.auprc) }}</td><td class="num">{{ num(r.mcc) }}</td><td class="num">{{ num(r.balanced_accuracy) }}</td><td class="num">{{ r.best_epoch }}</td><td class="num">{{ r.seconds }}</td></tr>
{% endfor %}</table>
{% endif %}
{% if clusters %}
<h3>Unsupervised view: clusters of the test windows</h3>
<p>k-means with {{ clusters.n_clusters }} clusters on {{ clusters.n }} test windows; purity = fraction of windows whose cluster's majority label is their own
(a single cluster would reach {{ num(clusters.majority_fraction) }}).</p>
<table><tr><th>features</th><th>purity</th><th>adjusted Rand index</th><th>NMI</th></tr>
{% for name, v in clusters.views.items() %}<tr><td>{{ name }}</td><td class="num">{{ num(v.purity) }}</td><td class="num">{{ num(v.adjusted_rand) }}</td><td class="num">{{ num(v.nmi) }}</td></tr>
{% endfor %}</table>
<figure><img src="{{ clusters.figure }}" alt="PCA maps of the embeddings"><figcaption>First two principal components, coloured by label.</figcaption></figure>
{% endif %}
{% for g in gans %}
<h3>GAN: generated {{ g.class }} windows</h3>
<p>WGAN-GP trained on {{ g.train_windows }} train-split {{ g.class }} windows for {{ g.settings.epochs }} epochs ({{ g.train_seconds }} s);
compared with {{ g.heldout_windows }} held-out (val + test) real windows. Shuffled real windows keep each window's base composition and lose its order: the floor a generator must beat.</p>
<table><tr><th>set</th><th>n</th>{% for k in range(1, 7) %}<th>JSD k={{ k }}</th>{% endfor %}<th>GC mean ± sd</th><th>GC W1</th>{% if g.classifier %}<th>P({{ g.class }})</th>{% endif %}</tr>
{% for name, s in g.sets.items() %}<tr><td>{{ name | replace("_", " ") }}</td><td class="num">{{ s.n }}</td>{% for k in range(1, 7) %}<td class="num">{{ num(s.kmer_jsd["k" ~ k], 4) }}</td>{% endfor %}<td class="num">{{ num(s.gc_mean) }} ± {{ num(s.gc_sd) }}</td><td class="num">{{ num(s.gc_wasserstein, 4) }}</td>{% if g.classifier %}<td class="num">{{ num(s.classifier_score) }}</td>{% endif %}</tr>
{% endfor %}</table>
{% if g.augmentation is defined %}
<p>Augmentation: {{ g.augmentation.added_windows }} generated windows added to the train split as {{ g.class }};
the classifier ({{ g.augmentation.classifier }}) trained again gives test recall of {{ g.class }}
{{ num(g.augmentation.augmented.recall) }} (without: {{ num(g.augmentation.original.recall) }}) and balanced accuracy
{{ num(g.augmentation.augmented.balanced_accuracy) }} (without: {{ num(g.augmentation.original.balanced_accuracy) }}).</p>
{% endif %}
<figure><img src="{{ g.figures.quality }}" alt="k-mer distances and GC content"><figcaption>Jensen-Shannon divergence of pooled k-mer spectra to the held-out real windows, and GC content per window.</figcaption></figure>
<figure><img src="{{ g.figures.training }}" alt="GAN training curves"><figcaption>Critic and generator losses; the Wasserstein estimate should fall towards zero as generated windows approach real ones.</figcaption></figure>
{% endfor %}
"""


def _num(value, digits: int = 3) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def finetune_rows(runs: dict, evals: dict) -> list[dict]:
    """One row per ``bert`` model: encoder, pretrained or from scratch, and its test metrics."""
    rows = []
    for name, run in sorted(runs.items()):
        if run.get("arch") != "bert" or name not in evals:
            continue
        settings, e = run["settings"], evals[name]
        rows.append({"model": name, "encoder": settings.get("encoder"),
                     "init": "from scratch" if settings.get("from_scratch") else "pretrained",
                     "best_epoch": run.get("best_epoch"), "seconds": run.get("train_seconds"),
                     **{m: e.get(m) for m in ("auroc", "auprc", "mcc", "balanced_accuracy")}})
    return rows


def build(paths: list[Path], runs: dict, evals: dict) -> dict:
    """Template context from the stage outputs in ``paths``."""
    context = {"pretrain": None, "clusters": None, "gans": [], "finetuned": finetune_rows(runs, evals)}
    for path in map(Path, paths):
        if path.name == "history.tsv":                       # the pretrain stage's (run.json beside it)
            history, run = read_tsv(path), read_json(path.parent / "run.json")
            context["pretrain"] = {"run": run, "final": history.iloc[-1].to_dict(),
                                   "figure": figures.mlm_curves(history, run.get("majority_token_accuracy"))}
        elif path.name == "clusters.json":
            clusters = read_json(path)
            context["clusters"] = {**clusters, "figure": figures.clusters(clusters)}
        elif path.name == "quality.json":
            quality = read_json(path)
            history = read_tsv(path.parent / "history.tsv")
            context["gans"].append({**quality, "figures": {"quality": gan_figures.quality(quality),
                                                           "training": gan_figures.training(quality["class"],
                                                                                            history)}})
    return context


def render_section(paths: list[Path], runs: dict, evals: dict) -> Markup:
    """HTML fragment of the section (empty when there is nothing to show)."""
    context = build(paths, runs, evals)
    if not (context["pretrain"] or context["clusters"] or context["gans"] or context["finetuned"]):
        return Markup("")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Markup(env.from_string(TEMPLATE).render(num=_num, **context))
