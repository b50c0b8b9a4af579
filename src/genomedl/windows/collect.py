"""Windows of a dataset's source, labelled by its task: GenBank records, a reference FASTA with its annotation
(pysam; one sequence at a time), or labelled sequences (each whole by default, every input row accounted for)."""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from genomedl.choices import TASKS
from genomedl.errors import GenomedlError
from genomedl.integrity import check_fai, closest, quiet_htslib, require_bgzip
from genomedl.sequence import normalise
from genomedl.windows.annotation import (
    annotation_format,
    check_bed_columns,
    check_bounds,
    genbank_records,
    read_annotation,
    tabix_contigs,
)
from genomedl.windows.labelled import read_labelled
from genomedl.windows.policy import WindowPolicy, cut_windows, jitter, tile_centres
from genomedl.windows.tasks import TASK_CLASSES, TaskOptions, task_anchors

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
