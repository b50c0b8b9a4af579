"""The quality gate's checks (the qc stage runs them between split and training).

Shortcut probes (:mod:`.shortcuts`: GC content, length / N content, k-mer spectrum k <= 3, per-position base
composition), near-duplicate leakage of val/test windows into train on either strand (:mod:`.leakage`), class
balance per split and per group, whether the labels hold on both strands (:mod:`.strand`: the training stages'
``rc_augment: auto`` follows it) and whether the signal sits anywhere in the window (:mod:`.layout`: the cnn's
``head: auto`` follows it). Each probe gets a verdict pass / warn / fail from ``qc.thresholds``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genomedl.choices import ORIENTED_TASKS
from genomedl.probes.layout import layout_probe
from genomedl.probes.leakage import nearest
from genomedl.probes.shortcuts import FAMILIES, features, probe
from genomedl.probes.strand import strand_probe

SPLITS = ("train", "val", "test")


PROBE_TITLES = {
    "gc": "GC content",
    "length_n": "length / N content",
    "kmer": "k-mer spectrum (k <= 3)",
    "position": "per-position base composition",
    "near_duplicates": "near-duplicate test windows",
}


HISTOGRAM_EDGES = [0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0]


def verdict(value: float | None, limits: dict) -> str:
    """pass / warn / fail of ``value`` against ``limits`` {warn, fail} (a limit of None never triggers)."""
    if value is None or not np.isfinite(value):
        return "pass"
    if limits["fail"] is not None and value >= limits["fail"]:
        return "fail"
    if limits["warn"] is not None and value >= limits["warn"]:
        return "warn"
    return "pass"


def shortcut_probes(tokens, y: np.ndarray, split: np.ndarray, settings: dict, seed: int) -> dict:
    """AUROC with its interval of each feature family (:data:`probes.FAMILIES`), fitted on at most
    ``qc.max_train`` train windows (seeded random sample) and scored on every test window."""
    rng = np.random.default_rng(seed)
    train = np.flatnonzero(split == "train")
    if len(train) > settings["max_train"]:
        train = np.sort(rng.choice(train, settings["max_train"], replace=False))
    test = np.flatnonzero(split == "test")
    found = {}
    for family in FAMILIES:
        x_train = features(tokens, train, family, settings["position_bin"])
        x_test = features(tokens, test, family, settings["position_bin"])
        result = probe(x_train, y[train], x_test, y[test], settings["bootstrap"], seed)
        limits = settings["thresholds"][family]
        found[family] = {**result, **limits, "verdict": verdict(result["auroc"], limits)}
    return found


def near_duplicates(tokens, split: np.ndarray, ids: np.ndarray, settings: dict) -> tuple[dict, dict]:
    """(summary per val/test split: identity histogram, windows at or above ``qc.identity`` and examples;
    per split the rows of those windows) from :func:`leakage.nearest`."""
    train = np.flatnonzero(split == "train")
    summary, rows_above = {}, {}
    for name in ("val", "test"):
        rows = np.flatnonzero(split == name)
        found = nearest(
            tokens,
            train,
            rows,
            settings["kmer_size"],
            settings["sketch_size"],
            settings["max_occurrences"],
            settings["max_candidates"],
        )
        ident = found["identity"]
        above = ident >= settings["identity"]
        counts, _ = np.histogram(ident[np.isfinite(ident)], bins=HISTOGRAM_EDGES)
        order = np.argsort(-np.nan_to_num(ident[above], nan=0.0))[:10]
        summary[name] = {
            "windows": int(len(rows)),
            "above": int(above.sum()),
            "fraction": round(float(above.mean()) if len(rows) else 0.0, 6),
            "reverse_strand": int((above & found["reverse"]).sum()),
            "no_candidate": int((~np.isfinite(ident)).sum()),
            "histogram": {"edges": HISTOGRAM_EDGES, "counts": counts.tolist()},
            "examples": [
                {
                    "id": str(ids[rows[above][i]]),
                    "train_id": str(ids[found["train"][above][i]]),
                    "identity": round(float(ident[above][i]), 4),
                    "strand": "-" if found["reverse"][above][i] else "+",
                }
                for i in order
            ],
        }
        rows_above[name] = rows[above]
    return summary, rows_above


def class_balance(y: np.ndarray, split: np.ndarray, groups: np.ndarray, classes: list[str]) -> dict:
    """Windows per class in each split, and per group: how many groups hold a single class and the
    largest groups' class counts."""
    frame = pd.DataFrame({"label": y, "split": split, "group": groups})
    per_group = frame.groupby(["group", "label"]).size().unstack(fill_value=0).reindex(columns=classes, fill_value=0)
    largest = per_group.loc[per_group.sum(1).sort_values(ascending=False).index[:10]]
    return {
        "splits": {s: {c: int(((split == s) & (y == c)).sum()) for c in classes} for s in SPLITS},
        "groups": int(len(per_group)),
        "single_class_groups": int(((per_group > 0).sum(1) == 1).sum()),
        "largest_groups": [{"group": str(g), **{c: int(n) for c, n in row.items()}} for g, row in largest.iterrows()],
    }


def dedupe_near(split: np.ndarray, rows_above: dict) -> tuple[np.ndarray, dict]:
    """``split`` with the val/test windows that have a near-duplicate in train moved to train; the counts."""
    moved = split.copy()
    for name, rows in rows_above.items():
        moved[rows] = "train"
    return moved, {name: int(len(rows)) for name, rows in rows_above.items()}


def strands(tokens, y: np.ndarray, split: np.ndarray, task: str, settings: dict, seed: int) -> dict:
    """Whether models should learn both strands (``rc_augment``, what ``rc_augment: auto`` follows) and why:
    windows of an extraction task are cut on their feature's strand, so the forward strand; labelled sequences
    as the strand probe (:func:`.strand.strand_probe`, train and val only) finds."""
    probe = strand_probe(tokens, y, split, settings["max_train"], settings["bootstrap"], seed)
    if task in ORIENTED_TASKS:
        reason = f"the windows of task {task} are cut on their feature's strand: the forward strand"
        return {"task": task, "rc_augment": False, "reason": reason, "probe": probe}
    return {"task": task, "rc_augment": probe["both_strands"], "reason": probe["reason"], "probe": probe}


def layout(
    tokens, y: np.ndarray, split: np.ndarray, task: str, strands_verdict: dict, settings: dict, seed: int
) -> dict:
    """The cnn head that ``head: auto`` gives and why: position-free ("pooled": global max and mean of each feature)
    where the labels hold on both strands (``strands_verdict``) and the layout probe (:func:`.layout.layout_probe`,
    train and val only) finds the signal anywhere in the window; else "mixed" (position-aware as well). Windows of
    an extraction task are cut around their feature: "mixed"."""
    probe = layout_probe(tokens, y, split, settings["max_train"], settings["position_bin"], settings["bootstrap"], seed)
    if task in ORIENTED_TASKS:
        reason = f"the windows of task {task} are cut around their feature: a position-aware head"
        return {"task": task, "head": "mixed", "reason": reason, "probe": probe}
    anywhere = probe["anywhere"] and strands_verdict["rc_augment"]
    reason = probe["reason"] + (
        ", on either strand: a position-free head"
        if anywhere
        else "; a position-aware head"
        if not probe["anywhere"]
        else ", but the windows are oriented: a position-aware head"
    )
    return {"task": task, "head": "pooled" if anywhere else "mixed", "reason": reason, "probe": probe}


def probe_figure(report: dict, probe_name: str) -> str:
    if probe_name == "near_duplicates":
        test = report["near_duplicates"]["test"]
        return (
            f"{test['above']} of {test['windows']} test windows ({100 * test['fraction']:.1f}%) have a train window "
            f"at >= {report['near_duplicates']['identity']:.0%} identity on either strand"
        )
    return (
        f"a {PROBE_TITLES[probe_name]} classifier alone reaches test AUROC {report['probes'][probe_name]['auroc']:.3f}"
    )


def verdicts(report: dict, settings: dict) -> dict:
    """verdicts (probe -> pass/warn/fail/allowed), the overall verdict and the fail lines not allowed."""
    found = {name: p["verdict"] for name, p in report.get("probes", {}).items()}
    if "near_duplicates" in report:
        found["near_duplicates"] = report["near_duplicates"]["verdict"]
    failed = []
    for name, value in found.items():
        if value != "fail":
            continue
        limit = (settings["thresholds"][name])["fail"]
        if name in settings["allow"]:
            found[name] = "allowed"
            continue
        failed.append(
            f"dataset {report['dataset']}: qc probe {name} fails: {probe_figure(report, name)} (fail at >= {limit}); "
            f"fix the data or accept it with datasets.{report['dataset']}.qc.allow: [{name}]"
        )
    worst = next((v for v in ("fail", "warn", "allowed") if v in found.values()), "pass")
    return {"verdicts": found, "verdict": worst if settings["enabled"] else "skipped", "failed": failed}
