"""Interpret stage: attributions, motifs matched to JASPAR, first-layer filters and attention of one model.

Works on a seeded, class-balanced sample of test windows. Attention hook: a model that defines
``attention_maps(tokens [B, L]) -> Tensor [B, heads, T, T]`` (weights of its last attention layer)
gets its mean attention map drawn; nothing else is needed from a Transformer to appear in the report.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from genomedl import plotting
from genomedl.atomic import atomic_path, atomic_write
from genomedl.attribution import plots
from genomedl.attribution.attributions import accepts_one_hot, attribute, deeplift_unsupported, one_hot_inputs
from genomedl.attribution.jaspar import load_jaspar, match, to_meme
from genomedl.attribution.motifs import discover, filter_pwms, first_conv, information
from genomedl.choices import ATTRIBUTION_METHODS
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.sources.taxa import jaspar_taxon
from genomedl.tables import read_tsv, write_json, write_tsv

FIGURES = ("attributions.png", "motifs.png", "filters.png", "attention.png")


def sample_rows(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` row indices, as even across classes as the counts allow (seeded), in ascending order."""
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    picked, i = [], 0
    while len(picked) < min(n, len(labels)):
        picked += [p[i] for p in pools if i < len(p)][: n - len(picked)]
        i += 1
    return np.sort(np.array(picked, dtype=int))


def mean_attention(model, tokens: np.ndarray) -> np.ndarray | None:
    """Attention ``[T, T]`` averaged over heads and windows, from the model's ``attention_maps`` hook."""
    hook = getattr(model, "attention_maps", None)
    if hook is None:
        return None
    with torch.no_grad():
        weights = hook(torch.from_numpy(np.ascontiguousarray(tokens)))
    return weights.float().mean((0, 1)).numpy()


def run_interpret(
    model_dir: Path,
    dataset: DatasetFiles,
    out_dir: Path,
    settings: dict,
    seed: int,
    manifest: Path | None = None,
    taxon: str | None = None,
    log=print,
) -> dict:
    """Write attributions.npz, motifs.tsv, motifs.meme, interpretation.json and the figures of :data:`FIGURES`
    in ``out_dir``; ``settings``: schema section ``interpret``. The JASPAR taxon follows the records of
    ``manifest`` (the fetch stage's) or ``taxon`` (the dataset's source.taxon) unless the settings name it."""
    from genomedl.inference import load_model, predict_proba

    settings = stage_settings("interpret", settings)
    data = load_dataset(dataset)
    test = data.parts["test"]
    rows = sample_rows(test.labels, int(settings["sequences"]), seed)
    toks, y, ids = test.tokens[rows], test.labels[rows], [test.ids[i] for i in rows]
    model, payload = load_model(model_dir / "model.ckpt")
    x = one_hot_inputs(toks)
    onehot = x.numpy()
    notes, attributions = [], {}
    methods = [m for m in settings["methods"] if m in ATTRIBUTION_METHODS]
    if not accepts_one_hot(model, data.length):
        notes.append("the model does not read a one-hot input (k-mer features), so it has no input attributions")
        methods = []
    if "deeplift_shap" in methods and deeplift_unsupported(model):
        notes.append(f"DeepLIFT/SHAP left out: no exact rule for {', '.join(deeplift_unsupported(model))}")
        methods.remove("deeplift_shap")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods:
            attributions[method] = attribute(model, x, y, method, seed=seed)
    with atomic_path(out_dir / "attributions.npz") as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, ids=np.array(ids), labels=y, onehot=onehot.astype(np.uint8), **attributions)

    source = settings["motifs_from"] if settings["motifs_from"] in attributions else next(iter(attributions), None)
    motifs = []
    for c, name in enumerate(data.classes):
        if source is None or not (y == c).any():
            continue
        found = discover(onehot[y == c], attributions[source][y == c], threshold=settings["seqlet_threshold"])
        for k, m in enumerate(found[: settings["max_motifs"]], 1):
            motifs.append({**m, "name": f"{name}_motif{k}", "class": name, "kind": "attribution"})
    conv = first_conv(model)
    filters = []
    if conv is not None and settings["filters"]:
        ppms, sites = filter_pwms(conv, onehot)
        order = sorted(np.flatnonzero(sites >= 5), key=lambda f: -information(ppms[f]))[: settings["filters"]]
        filters = [
            {"ppm": ppms[f], "cwm": None, "support": int(sites[f]), "name": f"filter{f}", "class": "", "kind": "filter"}
            for f in order
        ]
    records = read_tsv(manifest).fillna("").to_dict("records") if manifest is not None else []
    jaspar = settings["jaspar"]
    taxon_choice = jaspar_taxon(jaspar["tax_groups"], taxon, records, dataset.dataset)
    jaspar = {**jaspar, "tax_groups": taxon_choice["tax_groups"], "tax_groups_from": taxon_choice["reason"]}
    if taxon_choice["note"]:
        notes.append(taxon_choice["note"])
        log(f"interpret: note: {taxon_choice['note']}")
    db = load_jaspar(jaspar["release"], jaspar["collection"], tuple(jaspar["tax_groups"]))
    for motif, matches in zip(motifs + filters, match([m["ppm"] for m in motifs + filters], *db)):
        motif["matches"] = matches

    probs = predict_proba(model, toks)
    examples = []
    for c, name in enumerate(data.classes):
        best = [i for i in np.argsort(-probs[:, c]) if y[i] == c][: settings["top_examples"]]
        for i in best:
            for method, values in attributions.items():
                examples.append(
                    {
                        "title": f"{ids[i]} ({name}, p={probs[i, c]:.2f}): {method.replace('_', ' ')}",
                        "contrib": values[i] * onehot[i],
                    }
                )
    attention = mean_attention(model, toks)
    plotting.save(plots.attribution_logos(examples), out_dir / "attributions.png")
    plotting.save(plots.motif_logos(motifs), out_dir / "motifs.png")
    plotting.save(plots.motif_logos(filters), out_dir / "filters.png")
    plotting.save(
        None if attention is None else plots.attention_map(attention, f"{payload['arch']}: mean attention"),
        out_dir / "attention.png",
    )

    columns = ["motif", "kind", "class", "width", "support", "information_bits"] + [
        f"match{r}_{k}" for r in (1, 2, 3) for k in ("id", "name", "p", "q")
    ]
    table = []
    for m in motifs + filters:
        row = {
            "motif": m["name"],
            "kind": m["kind"],
            "class": m["class"],
            "width": m["ppm"].shape[1],
            "support": m["support"],
            "information_bits": round(information(m["ppm"]), 2),
        }
        for r, mt in enumerate(m["matches"][:3], 1):
            row.update({f"match{r}_{k}": mt[k] for k in ("id", "name", "p", "q")})
        table.append(row)
    table = pd.DataFrame(table, columns=columns)
    write_tsv(table, out_dir / "motifs.tsv")
    with atomic_write(out_dir / "motifs.meme") as handle:
        handle.write(to_meme([m["name"] for m in motifs + filters], [m["ppm"] for m in motifs + filters]))
    summary = {
        "model": model_dir.name,
        "arch": payload["arch"],
        "sequences": len(rows),
        "seed": seed,
        "methods": list(attributions),
        "motifs_from": source,
        "notes": notes,
        "jaspar": {**jaspar, "motifs": len(db[0])},
        "attention": attention is not None,
        "motifs": [
            {k: (v.round(4).tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()}
            for m in motifs + filters
        ],
    }
    write_json(summary, out_dir / "interpretation.json")
    top = motifs[0]["matches"][0] if motifs and motifs[0]["matches"] else None
    log(
        f"interpret: {model_dir.name}: {', '.join(attributions) or 'no attributions'}; {len(motifs)} motifs, "
        f"{len(filters)} filters" + (f"; top motif {motifs[0]['name']} ~ {top['name']} ({top['id']})" if top else "")
    )
    return summary
