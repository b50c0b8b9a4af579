"""Extract stage: labelled fixed-length windows -> bgzipped, indexed FASTA + ``labels.tsv`` + summary.

Sources: GenBank records (from fetch), a reference FASTA + GFF3/GTF/BED annotation (pysam), or
labelled sequences (CSV/FASTA; each sequence whole by default, every input row accounted for in the
summary's ``rows``). Tasks: see :mod:`.tasks`. Windows: see :mod:`.windows`. Identical and
reverse-complement-identical windows are collapsed or reported (split.dedupe, :mod:`.dedupe`).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from ..atomic import atomic_path
from ..choices import TASKS
from ..config import stage_settings
from ..console import log as console_log
from ..errors import GenomedlError
from ..fasta_io import write_windows_fasta
from ..fetch.genbank_text import first_lines, parse_record, split_records
from ..integrity import check_fai, closest, quiet_htslib, require_bgzip
from ..sequence import normalise
from ..sequence_groups import fai_lengths, sequence_groups
from ..tables import natural_sorted, read_json, read_tsv, write_json, write_tsv
from .annotation import annotation_format, check_bed_columns, check_bounds, from_genbank, read_annotation, tabix_contigs
from .dedupe import apply_dedupe
from .labelled import read_labelled
from .tasks import TASK_CLASSES, TaskOptions, task_anchors
from .windows import WindowPolicy, cut_windows, jitter, tile_centres

__all__ = [
    "run_extract",
    "run_extract_groups",
    "run_extract_part",
    "WindowPolicy",
    "TaskOptions",
    "TASK_CLASSES",
    "LABEL_COLUMNS",
]

LABEL_COLUMNS = ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
GENBANK_KEYS = ("local", "accessions", "genes", "query")
BASE_COUNTS = ("lowercase", "iupac_to_n", "dropped_off_edge", "dropped_too_many_n")
ROW_OUTCOMES = (
    "kept",
    "padded",
    "cropped",
    "tiled",
    "windows",
    "dropped_shorter",
    "dropped_too_many_n",
    "dropped_no_window",
    "dropped_duplicate",
)


def source_kind(source: dict) -> str:
    """``genbank``, ``reference`` or ``labelled``; a dataset draws on one kind only."""
    kinds = [
        k
        for k, present in (
            ("genbank", any(source.get(k) for k in GENBANK_KEYS)),
            ("reference", bool(source.get("reference"))),
            ("labelled", bool(source.get("labelled"))),
        )
        if present
    ]
    if len(kinds) > 1:
        raise GenomedlError(
            f"config key datasets.<name>.source mixes {' and '.join(kinds)} inputs; use one kind of source per dataset"
        )
    return kinds[0] if kinds else "genbank"


def genbank_records(path: Path, log):
    """(id, sequence bytes, Annotation) of every record of a GenBank file (gzip or plain)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        texts = split_records(handle.read(), str(path))
    for number, (text, line) in enumerate(zip(texts, first_lines(texts)), start=1):
        record = parse_record(text, str(path), number, log, line)
        ann = from_genbank(record, log)
        check_bounds(ann, len(record.seq), path, f"record {number} ({record.id}, {len(record.seq)} bp)", log)
        yield record.id, bytes(record.seq), ann


def no_annotation(fasta, annotation, missing: list[str], names) -> GenomedlError:
    """The line for a reference FASTA none of whose sequences (``names``) the annotation's ids (``missing``) name."""
    return GenomedlError(
        f"{fasta}: no sequence has annotation in {annotation} (its sequence ids: "
        f"{closest(missing, names) if missing else 'none'}); rename the annotation's sequence ids (first "
        "column) to the FASTA names, or give the FASTA of the annotation's assembly"
    )


def unmatched_ids(fasta, annotation, missing: list[str], names) -> str:
    """The warning for annotation sequence ids (``missing``) that are not among the FASTA's ``names``."""
    return (
        f"warning: {annotation}: {len(missing)} sequence id(s) not in {fasta}: {closest(missing, names, n=5)}; "
        "their features are skipped: rename them to the FASTA's names if they name the same sequences"
    )


def reference_records(
    reference: dict, log, task: str, wanted: list[str] | None = None, unmatched: set[str] | None = None
):
    """(id, sequence bytes, Annotation) of every annotated sequence of a reference FASTA (of those named in
    ``wanted``: one group of an indexed FASTA, see :mod:`genomedl.sequence_groups`, whose annotation ids that no
    sequence of the FASTA has are added to ``unmatched`` for the gathering job to report)."""
    fasta, annotation = Path(reference["fasta"]), Path(reference["annotation"])
    for path, key in ((fasta, "fasta"), (annotation, "annotation")):
        if not path.exists():
            raise GenomedlError(f"{path}: file not found (config key source.reference.{key}); fix the path")
    fmt = annotation_format(annotation, reference.get("format"))
    if fmt == "bed":
        check_bed_columns(annotation, task)
    tabix = Path(f"{annotation}.tbi").exists() or Path(f"{annotation}.csi").exists()
    indexed = Path(f"{fasta}.fai").exists()
    if indexed:
        require_bgzip(fasta, "the FASTA")
        check_fai(fasta)
    elsewhere, every = set(), None  # annotation ids of other groups; every sequence name of an indexed FASTA
    try:
        if indexed:
            with quiet_htslib():
                reader = pysam.FastaFile(str(fasta))
            every = set(reader.references)
            names = list(reader.references) if wanted is None else list(wanted)
            entries = ((name, lambda name=name: reader.fetch(name)) for name in names)
        else:
            reader = pysam.FastxFile(str(fasta))
            entries = ((e.name, lambda e=e: e.sequence or "") for e in reader)
            names = None
        annotations = {} if tabix else read_annotation(annotation, fmt, names or [], log, wanted, elsewhere)
        seen, found = set(), 0
        with reader:
            for name, fetch in entries:
                if name in seen:
                    raise GenomedlError(f"{fasta}: sequence name {name!r} appears twice; names must be unique")
                seen.add(name)
                ann = read_annotation(annotation, fmt, [name], log).get(name) if tabix else annotations.get(name)
                if ann is not None:
                    found += 1
                    sequence = fetch().encode()
                    check_bounds(ann, len(sequence), annotation, f"{name} ({len(sequence)} bp in {fasta})", log)
                    yield name, sequence, ann
    except (OSError, ValueError) as exc:
        raise GenomedlError(
            f"{fasta}: not a readable FASTA file ({' '.join(str(exc).split())[:160]}); "
            "give a plain or bgzip-compressed FASTA"
        ) from None
    every = every or seen
    missing = sorted((tabix_contigs(annotation) if tabix else set(annotations) | elsewhere) - every)
    if wanted is not None:
        if unmatched is not None:
            unmatched.update(missing)
        return
    if not found:
        raise no_annotation(fasta, annotation, missing, every)
    if missing:
        log(unmatched_ids(fasta, annotation, missing, every))


def annotated_windows(records, task: str, policy: WindowPolicy, options: TaskOptions, seed: int, log):
    """Windows of every record: (label rows, ASCII windows ``[n, L]`` uint8, base counts, records)."""
    frames, arrays, totals, n_records = [], [], dict.fromkeys(BASE_COUNTS, 0), 0
    for seq_id, raw, ann in records:
        n_records += 1
        sequence, counts = normalise(raw, f"{seq_id}")
        rng = np.random.default_rng([seed, zlib.crc32(seq_id.encode())])
        anchors = task_anchors(task, ann, sequence, policy, options, rng)
        windows, kept, cut_counts = cut_windows(sequence, anchors.start, anchors.strand, policy)
        for key, value in {**counts, **cut_counts}.items():
            totals[key] += value
        start, strand = anchors.start[kept], np.where(anchors.strand[kept] < 0, "-", "+")
        end = start + policy.length
        frames.append(
            pd.DataFrame(
                {
                    "id": [f"{seq_id}:{s}-{e}:{t}" for s, e, t in zip(start, end, strand)],
                    "label": np.asarray(TASK_CLASSES[task], dtype=object)[anchors.label[kept]],
                    "accession": seq_id,
                    "gene": anchors.gene[kept],
                    "group": seq_id,
                    "start": start,
                    "end": end,
                    "strand": strand,
                }
            )
        )
        arrays.append(windows)
    if not frames:
        return pd.DataFrame(columns=LABEL_COLUMNS), np.zeros((0, policy.length), np.uint8), totals, 0
    return pd.concat(frames, ignore_index=True), np.concatenate(arrays), totals, n_records


def whole_starts(lengths: np.ndarray, policy: WindowPolicy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-sequence policy: (window start relative to its sequence int64 [m], owner row [m], outcome per
    row [n]: kept / padded / cropped / tiled / dropped_shorter). Shorter sequences are centred in N padding."""
    length, lengths = policy.length, np.asarray(lengths, np.int64)
    outcome = np.where(lengths == length, "kept", np.where(lengths < length, "padded", "cropped")).astype(object)
    if policy.shorter == "drop":
        outcome[lengths < length] = "dropped_shorter"
    start = np.where(lengths < length, -((length - lengths) // 2), (lengths - length) // 2)
    tiles = np.ones(len(lengths), np.int64)
    if policy.longer == "tile":
        outcome[lengths > length] = "tiled"
        tiles = np.where(lengths > length, -(-(lengths - length) // policy.stride) + 1, 1)
    tiles[outcome == "dropped_shorter"] = 0
    owner = np.repeat(np.arange(len(lengths)), tiles)
    step = np.arange(tiles.sum()) - np.repeat(np.cumsum(tiles) - tiles, tiles)
    tiled = outcome[owner] == "tiled"
    starts = np.where(tiled, np.minimum(step * policy.stride, lengths[owner] - length), start[owner])
    return starts.astype(np.int64), owner, outcome


def cut_whole(data, starts: np.ndarray, owner: np.ndarray, policy: WindowPolicy) -> tuple[np.ndarray, np.ndarray]:
    """ASCII windows [m, length] (padding is N) and a mask [m] of those within window.max_n_fraction, counted
    over the sequence's own bases (padding is not held against it)."""
    run_start, run_end = data.offsets[:-1][owner], data.offsets[1:][owner]
    index = run_start[:, None] + starts[:, None] + np.arange(policy.length)
    outside = (index < run_start[:, None]) | (index >= run_end[:, None])
    windows = data.sequence[np.clip(index, 0, max(len(data.sequence) - 1, 0))]
    windows[outside] = ord("N")
    own = np.maximum((~outside).sum(axis=1), 1)
    dense = ((windows == ord("N")) & ~outside).sum(axis=1) / own <= policy.max_n_fraction
    return windows, dense


def labelled_windows(paths: list[str], policy: WindowPolicy, seed: int):
    """Windows of labelled sequences: (labels, windows, counts, rows read, outcome per input row, policy).

    ``policy.sequences`` whole: each sequence is one example (see :func:`whole_starts`); windows: each
    sequence is one run, tiled or centred like a region. window.length None: the longest sequence."""
    data = read_labelled(paths)
    run_start, run_end = data.offsets[:-1], data.offsets[1:]
    policy = replace(policy, length=policy.length or int((run_end - run_start).max()))
    if policy.sequences == "whole":
        starts, owner, outcome = whole_starts(run_end - run_start, policy)
        windows, dense = cut_whole(data, starts, owner, policy)
        counts = {"dropped_off_edge": 0, "dropped_too_many_n": int((~dense).sum())}
        whole_dense = pd.Series(dense).groupby(owner).any().reindex(range(len(outcome)), fill_value=False)
        outcome[~whole_dense.to_numpy() & (outcome != "dropped_shorter")] = "dropped_too_many_n"
        windows, owner, local = windows[dense], owner[dense], starts[dense]
    else:
        centres, owner = tile_centres(run_start, run_end, policy)
        centres = centres + jitter(len(centres), policy, np.random.default_rng(seed))
        start = centres - policy.length // 2
        strand = np.ones(len(start), np.int8)
        windows, kept, counts = cut_windows(data.sequence, start, strand, policy, run_start[owner], run_end[owner])
        owner, local = owner[kept], start[kept] - run_start[owner[kept]]
        outcome = np.where(np.isin(np.arange(len(data.table)), owner), "windows", "dropped_no_window").astype(object)
    rows = data.table.iloc[owner].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "id": [f"{i}:{s}-{s + policy.length}:+" for i, s in zip(rows["id"], local)],
            "label": rows["label"],
            "accession": rows["id"],
            "gene": "",
            "group": rows["group"],
            "start": local,
            "end": local + policy.length,
            "strand": "+",
        }
    )
    if "split" in rows.columns:
        frame["split"] = rows["split"]
    totals = {**dict.fromkeys(BASE_COUNTS, 0), **data.counts, **counts}
    return frame, windows, totals, len(data.table), pd.Series(outcome, index=data.table["id"]), policy


def row_accounting(outcome: pd.Series, labels: pd.DataFrame, policy: WindowPolicy) -> dict:
    """Every input row's fate: counts of kept / padded / cropped / tiled (and their windows) / dropped with the
    reason; rows whose every window was removed as a duplicate count as dropped_duplicate."""
    lost = ~outcome.index.isin(labels["accession"].unique()) & ~outcome.str.startswith("dropped").to_numpy()
    outcome = outcome.mask(lost, "dropped_duplicate")
    counts = outcome.value_counts()
    rows = {"input": int(len(outcome)), "window_length": policy.length, "policy": policy.sequences}
    rows.update({str(k): int(v) for k, v in sorted(counts.items())})
    if policy.sequences == "whole" and (outcome == "tiled").any():
        rows["tiled_windows"] = int(labels["accession"].isin(outcome.index[outcome == "tiled"]).sum())
    examples = outcome[outcome.str.startswith("dropped")]
    rows["dropped_examples"] = {k: v.index[:5].tolist() for k, v in examples.groupby(examples)}
    return rows


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


def annotated_policy(settings: dict) -> WindowPolicy:
    """The window policy of a GenBank or reference source (window.length, else window.default_length)."""
    policy = WindowPolicy.from_config(settings["window"])
    return replace(policy, length=policy.length or policy.default_length)


def collect_windows(
    settings: dict,
    seed: int,
    records: Path | None,
    log,
    wanted: list[str] | None = None,
    unmatched: set[str] | None = None,
):
    """Windows of the dataset's source before dedupe: (labels, windows ``[n, L]`` uint8, base counts, records
    read, outcome per labelled row or None, policy, origin). ``settings``: schema section ``extract``;
    ``wanted``: only these sequences of a reference source (``unmatched``: see :func:`reference_records`)."""
    source = settings.get("source") or {}  # none: the GenBank records of ``records``
    task, options = settings["task"], settings["task_options"]
    kind = source_kind(source)
    policy = WindowPolicy.from_config(settings["window"])
    if (kind == "labelled") != (task == "labelled"):
        raise GenomedlError(
            f"task {task!r} does not fit a {kind} source (config key datasets.<name>.task); "
            "labelled sources take task 'labelled' and only they do"
        )
    if task not in TASKS:
        raise GenomedlError(
            f"unknown task {task!r} (config key datasets.<name>.task); choose one of {', '.join(TASKS)}"
        )
    if kind == "labelled":
        labels, windows, totals, n_records, outcome, policy = labelled_windows(source["labelled"], policy, seed)
        return labels, windows, totals, n_records, outcome, policy, ", ".join(source["labelled"])
    policy = annotated_policy(settings)
    if kind == "genbank" and records is None:
        raise GenomedlError("extract needs --records (the fetched GenBank file) for a GenBank source")
    rows = (
        genbank_records(Path(records), log)
        if kind == "genbank"
        else reference_records(source["reference"], log, task, wanted, unmatched)
    )
    labels, windows, totals, n_records = annotated_windows(
        rows, task, policy, TaskOptions.from_config(options), seed, log
    )
    return (
        labels,
        windows,
        totals,
        n_records,
        None,
        policy,
        source["reference"]["fasta"] if kind == "reference" else records,
    )


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
