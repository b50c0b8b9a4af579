"""Extract stage: labelled fixed-length windows -> bgzipped, indexed FASTA + ``labels.tsv`` + summary.

Sources (:mod:`genomedl.windows.collect`): GenBank records (from fetch), a reference FASTA + GFF3/GTF/BED
annotation (pysam), or labelled sequences (CSV/FASTA; each sequence whole by default, every input row accounted
for in the summary's ``rows``). Tasks: :mod:`genomedl.windows.tasks`; windows: :mod:`genomedl.windows.policy`.
Identical and reverse-complement-identical windows are collapsed or reported (split.dedupe,
:mod:`genomedl.windows.dedupe`). A reference with a ``.fai`` is extracted in groups of sequences
(``run_extract_groups``, ``run_extract_part``), gathered by ``run_extract``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.console import log as console_log
from genomedl.errors import GenomedlError
from genomedl.fasta_io import write_windows_fasta
from genomedl.sequence_groups import fai_lengths, sequence_groups
from genomedl.tables import natural_sorted, read_json, read_tsv, write_json, write_tsv
from genomedl.windows.collect import (
    BASE_COUNTS,
    LABEL_COLUMNS,
    ROW_OUTCOMES,
    annotated_policy,
    collect_windows,
    no_annotation,
    row_accounting,
    source_kind,
    unmatched_ids,
)
from genomedl.windows.dedupe import apply_dedupe
from genomedl.windows.tasks import TASK_CLASSES


def announce_rows(rows: dict, log) -> None:
    """One console line with the count of every drop, pad, crop and tile (nothing when all rows were kept); a
    ``warning:`` line when rows were dropped or padded (data changed: listed at the end of a workflow run)."""
    changed = {k: v for k, v in rows.items() if k in ROW_OUTCOMES and k not in ("kept", "windows") and v}
    if changed:
        parts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in changed.items())
        warning = "warning: " if any(k == "padded" or k.startswith("dropped") for k in changed) else ""
        log(f"{warning}extract: of {rows['input']} labelled sequences (window {rows['window_length']} bp): {parts}")


def distinct(log, warned: list[str]):
    """A ``log`` that prints each message once (malformed files repeat one parser warning per line) and
    appends the ``warning:`` lines to ``warned`` (the summary keeps them for the report)."""
    seen = set()

    def once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            log(message)
            if message.startswith("warning:"):
                warned.append(message)

    return once


def run_extract_groups(groups: Path, settings: dict, log=console_log) -> int:
    """Write the groups of sequences (JSON list of name lists) that the extract_part jobs of an indexed reference
    take, from its .fai and source.reference.group_bp; returns their number."""
    settings = stage_settings("extract", settings, "datasets.<name>")
    reference = _indexed_source(settings)
    found = sequence_groups(reference["fasta"], reference["group_bp"])
    write_json(found, groups)
    log(f"extract groups: {sum(map(len, found))} sequences of {reference['fasta']} in {len(found)} groups")
    return len(found)


def _indexed_source(settings: dict) -> dict:
    reference = (settings.get("source") or {}).get("reference")
    if not reference:
        raise GenomedlError("extract-part reads a reference source (config key datasets.<name>.source.reference)")
    return reference


def run_extract_part(
    windows: Path, labels: Path, summary: Path, settings: dict, seed: int, part: int, log=console_log
) -> int:
    """Windows of group ``part`` (0-based, see :mod:`genomedl.sequence_groups`) of an indexed reference's sequences
    before dedupe: ``windows`` (.npy uint8 ``[n, L]``), ``labels`` (TSV) and ``summary`` (JSON: base counts,
    records, window length), gathered by :func:`run_extract`; returns the number of windows."""
    settings = stage_settings("extract", settings, "datasets.<name>")
    warned: list[str] = []
    log = distinct(log, warned)
    reference = _indexed_source(settings)
    groups = sequence_groups(reference["fasta"], reference["group_bp"])
    if not 0 <= part < len(groups):
        raise GenomedlError(f"{reference['fasta']}: part {part} does not exist; its index gives {len(groups)} groups")
    unmatched: set[str] = set()
    found, arrays, totals, n_records, _, policy, _ = collect_windows(settings, seed, None, log, groups[part], unmatched)
    write_tsv(found[LABEL_COLUMNS], labels)
    with atomic_path(windows) as tmp, open(tmp, "wb") as handle:
        np.save(handle, arrays)
    write_json(
        {
            "bases": totals,
            "records": n_records,
            "window_length": policy.length,
            "warnings": warned,
            "unmatched": sorted(unmatched),
        },
        summary,
    )
    log(f"extract part {part}: {len(found)} windows from {n_records} of {len(groups[part])} sequences")
    return len(found)


def gather_parts(parts: list[Path], length: int):
    """The windows of :func:`run_extract_part` folders ``parts`` in order: (labels, windows, base counts,
    records, warnings, annotation ids that no sequence of the FASTA has); parts without records add no rows."""
    frames, arrays, totals, n_records, warned = [], [], dict.fromkeys(BASE_COUNTS, 0), 0, []
    unmatched: set[str] = set()
    for folder in map(Path, parts):
        summary = read_json(folder / "summary.json")
        if summary["records"]:
            frames.append(read_tsv(folder / "labels.tsv"))
            arrays.append(np.load(folder / "windows.npy"))
        totals = {k: totals[k] + summary["bases"][k] for k in totals}
        n_records += summary["records"]
        warned += summary["warnings"]
        unmatched.update(summary.get("unmatched", []))  # absent in a part written by an older genomedl
    windows = np.concatenate(arrays) if arrays else np.zeros((0, length), np.uint8)
    labels = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LABEL_COLUMNS)
    return labels, windows, totals, n_records, warned, sorted(unmatched)


def report_unmatched(reference: dict, n_records: int, unmatched: list[str], log) -> None:
    """After gathering a scattered reference: stop when no sequence had annotation, else warn of the annotation's
    sequence ids that are not in the FASTA (as :func:`reference_records` does for a whole one)."""
    names = [name for name, _ in fai_lengths(reference["fasta"])]
    if not n_records:
        raise no_annotation(reference["fasta"], reference["annotation"], unmatched, names)
    if unmatched:
        log(unmatched_ids(reference["fasta"], reference["annotation"], unmatched, names))


def run_extract(
    fasta: Path,
    labels: Path,
    summary: Path,
    settings: dict,
    seed: int,
    records: Path | None = None,
    parts: list[Path] | None = None,
    log=console_log,
) -> int:
    """Extract labelled windows from the dataset's source; returns the number of windows written.

    ``settings``: schema section ``extract`` (source, task, task_options, window). ``records`` is the
    fetched GenBank file (GenBank sources); reference and labelled sources are read from the paths in
    the source. ``parts``: the folders of :func:`run_extract_part` to gather instead (a scattered
    reference). Writes ``fasta`` (bgzipped, indexed), ``labels`` (TSV) and ``summary`` (JSON); nothing
    is written unless every input was read without error.
    """
    settings = stage_settings("extract", settings, "datasets.<name>")
    warned: list[str] = []
    task, log = settings["task"], distinct(log, warned)
    out_fasta, out_labels, out_summary = fasta, labels, summary
    kind = source_kind(settings.get("source") or {})
    if parts:
        policy, outcome, origin = annotated_policy(settings), None, settings["source"]["reference"]["fasta"]
        labels, windows, totals, n_records, part_warnings, unmatched = gather_parts(parts, policy.length)
        warned += part_warnings
        report_unmatched(settings["source"]["reference"], n_records, unmatched, log)
    else:
        labels, windows, totals, n_records, outcome, policy, origin = collect_windows(settings, seed, records, log)
    before = len(labels)
    predefined = "split" in labels.columns and settings["split"]["strategy"] in ("auto", "predefined")
    labels, windows, duplicates = apply_dedupe(labels, windows, settings["split"]["dedupe"], predefined)
    if duplicates["conflicting_groups"]:
        log(
            f"warning: {duplicates['conflicting_groups']} groups of identical windows carry different labels; "
            + (
                f"all {duplicates['dropped_conflicting']} dropped"
                if duplicates["mode"] == "collapse"
                else "all kept (split.dedupe report)"
            )
            + f", e.g. {'; '.join(duplicates['conflict_examples'])}"
        )
    if labels.empty and outcome is not None:
        raise GenomedlError(
            f"{origin}: all {len(outcome)} sequences dropped ({', '.join(sorted(set(outcome)))}) at window.length "
            f"{policy.length}; set window.shorter: pad, raise window.max_n_fraction or omit window.length"
        )
    if labels.empty and totals["dropped_off_edge"]:
        raise GenomedlError(
            f"{origin}: all {totals['dropped_off_edge']} {task} windows of {policy.length} bp run "
            "off the end of their record; shorten window.length or set window.off_edge: pad"
        )
    if labels.empty and totals["dropped_too_many_n"]:
        raise GenomedlError(
            f"{origin}: all {totals['dropped_too_many_n']} {task} windows have more N than "
            "window.max_n_fraction allows; raise it or give sequences with fewer unknown bases"
        )
    if labels.empty:
        raise GenomedlError(
            f"{origin}: no record has the features that task {task} needs; check the records' "
            "annotation or choose another task (config key datasets.<name>.task)"
        )
    classes = natural_sorted(set(labels["label"])) if task == "labelled" else TASK_CLASSES[task]
    found = natural_sorted(set(labels["label"]))
    if len(found) < 2:
        raise GenomedlError(
            f"{origin}: only class {found[0]!r} found for task {task}; "
            "a classifier needs at least two classes: add records or labelled sequences"
        )
    if not labels["id"].is_unique:
        raise GenomedlError(
            f"{origin}: window id {labels['id'][labels['id'].duplicated()].iloc[0]!r} occurs twice; "
            "give every record or sequence a unique name"
        )
    dropped = {k: totals[k] for k in ("dropped_off_edge", "dropped_too_many_n") if totals[k]}
    if dropped:
        log(
            f"warning: {origin}: {sum(dropped.values())} windows dropped ("
            + ", ".join(f"{n} {k.removeprefix('dropped_').replace('_', ' ')}" for k, n in dropped.items())
            + "); see window.off_edge and window.max_n_fraction"
        )
    write_windows_fasta(labels["id"].tolist(), windows, out_fasta)
    write_tsv(labels[LABEL_COLUMNS + [c for c in labels.columns if c not in LABEL_COLUMNS]], out_labels)
    counts = labels["label"].value_counts()
    summary = {
        "task": task,
        "source": kind,
        "classes": classes,
        "window_length": policy.length,
        "records": n_records,
        "windows": len(labels),
        "windows_before_dedupe": before,
        "class_counts": {c: int(counts.get(c, 0)) for c in classes},
        "bases": totals,
        "duplicates": duplicates,
        "warnings": warned,
    }
    if outcome is not None:
        summary["rows"] = row_accounting(outcome, labels, policy)
        announce_rows(summary["rows"], log)
    across = duplicates.get("across_splits")
    if across and across["groups_in_two_splits"]:
        log(
            f"extract: {across['groups_in_two_splits']} groups of identical or reverse-complement sequences span "
            f"two predefined splits; {across['test_rows_with_identical_train_twin']} test rows have an identical "
            f"and {across['test_rows_with_reverse_complement_train_twin']} a reverse-complement twin in train "
            "(kept: split.dedupe is report)"
        )
    write_json(summary, out_summary)
    log(
        f"extract: {len(labels)} windows of {policy.length} bp from {n_records} records; classes "
        f"{summary['class_counts']}; duplicates {'collapsed' if duplicates['mode'] == 'collapse' else 'kept'} "
        f"{duplicates['exact'] + duplicates['reverse_complement']}, "
        f"dropped for conflicting labels {duplicates['dropped_conflicting']}"
    )
    return len(labels)
