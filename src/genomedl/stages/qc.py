"""QC stage: the dataset quality gate between split and training (:mod:`genomedl.probes.gate`: shortcut probes,
near-duplicate leakage on either strand, class balance, the strand and layout verdicts). A fail stops the run with
one line unless ``qc.allow`` names the probe.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.config import stage_settings
from genomedl.encoding.tokens import load_tokens
from genomedl.errors import GenomedlError
from genomedl.probes.gate import (
    class_balance,
    dedupe_near,
    layout,
    near_duplicates,
    shortcut_probes,
    strands,
    verdict,
    verdicts,
)
from genomedl.splits.strategies import group_key
from genomedl.tables import read_json, read_tsv, write_json, write_tsv


def leak_verdict(fraction: float, limits: dict, published: bool) -> str:
    """The near-duplicate verdict: a fail warns instead on a predefined (published) split, whose test windows with a
    near copy in train the evaluate stage scores apart (its ``novel`` metrics)."""
    found = verdict(fraction, limits)
    return "warn" if published and found == "fail" else found


def run_qc(
    tokens: Path,
    labels: Path,
    split: Path,
    split_summary: Path,
    out: Path,
    dataset: str,
    settings: dict,
    seed: int,
    split_out: Path | None = None,
    split_settings: dict | None = None,
    task: str = "labelled",
    log=print,
) -> dict:
    """Write ``out`` (qc.json: probes, near duplicates, class balance, verdicts); raise GenomedlError on a
    fail that ``qc.allow`` does not accept. ``split_out``: the split the model stages read, ``split`` as is or,
    under ``split_settings`` (the dataset's split section) ``dedupe: near``, with near-duplicate val/test
    windows moved to train. ``task``: the dataset's task (:func:`strands`).
    ``tokens`` ``[N, L]`` uint8."""
    settings = stage_settings("qc", settings, f"datasets.{dataset}.qc")
    split_settings = stage_settings("split", split_settings, f"datasets.{dataset}.split")
    started = time.perf_counter()
    table = read_tsv(labels, dtype={"id": str}).drop(columns="split", errors="ignore")  # a predefined split column
    table = table.merge(read_tsv(split, dtype={"id": str}), on="id", how="left")
    toks = np.asarray(load_tokens(tokens))
    if len(toks) != len(table):
        raise GenomedlError(f"{tokens} has {len(toks)} rows for {len(table)} labels; rerun the encode stage")
    assigned = table["split"].fillna("").to_numpy(dtype=object)
    classes = sorted(table["label"].unique())
    y = table["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    ids = table["id"].to_numpy(dtype=object)
    report = {"dataset": dataset, "enabled": settings["enabled"], "classes": classes, "settings": settings}
    if settings["enabled"]:
        _, groups = group_key(table, read_json(split_summary)["group_by"], split_settings)
        report["class_balance"] = class_balance(table["label"].to_numpy(dtype=object), assigned, groups, classes)
        report["probes"] = shortcut_probes(toks, y, assigned, settings, seed)
        leak, rows_above = near_duplicates(toks, assigned, ids, settings)
        limits = settings["thresholds"]["near_duplicates"]
        published = read_json(split_summary).get("strategy") == "predefined"
        report["near_duplicates"] = {
            **leak,
            "identity": settings["identity"],
            **limits,
            "verdict": leak_verdict(leak["test"]["fraction"], limits, published),
            "published_split": published,  # a split the user cannot change: leakage warns, evaluate scores both
            "test_ids": sorted(str(i) for i in ids[rows_above["test"]]),  # evaluate's "near" test windows
        }
        if split_settings["dedupe"] == "near":
            assigned, report["dedupe"] = dedupe_near(assigned, rows_above)
    report["strands"] = strands(toks, y, assigned, task, settings, seed)  # steers training: run even when disabled
    report["layout"] = layout(toks, y, assigned, task, report["strands"], settings, seed)  # steers the cnn's head
    if split_out is not None:
        write_tsv(pd.DataFrame({"id": ids, "split": assigned}), split_out)
    report.update(verdicts(report, settings))
    report["seconds"] = round(time.perf_counter() - started, 2)
    write_json(report, out)
    log(f"qc {dataset}: {report['verdict']} ({report['seconds']} s): {report['verdicts']}")
    verdict_strands = report["strands"]
    learns = "both" if verdict_strands["rc_augment"] else "forward"
    log(f"qc {dataset}: strands: {learns} ({verdict_strands['reason']})")
    log(f"qc {dataset}: cnn head: {report['layout']['head']} ({report['layout']['reason']})")
    near = report.get("near_duplicates", {})
    if near.get("test_ids"):
        log(
            f"qc {dataset}: {len(near['test_ids'])} of {near['test']['windows']} test windows have a train window at "
            f">= {near['identity']:.0%} identity on either strand; evaluate also scores the test windows without one"
        )
    if report["failed"]:
        raise GenomedlError(report["failed"][0])
    return report
