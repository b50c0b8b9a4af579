"""Extract stage: labelled fixed-length windows -> bgzipped, indexed FASTA + ``labels.tsv`` + summary.

Sources: GenBank records (from fetch), a reference FASTA + GFF3/GTF/BED annotation (pysam), or
labelled sequences (CSV/FASTA). Tasks: see :mod:`.tasks`. Windows: see :mod:`.windows`. Identical
and reverse-complement-identical windows are collapsed (:mod:`.dedupe`) before anything is written.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from ..choices import TASKS
from ..config import stage_settings
from ..errors import GenomedlError
from ..fasta_io import write_windows_fasta
from ..fetch.genbank_text import parse_record, split_records
from ..sequence import normalise
from ..tables import write_json, write_tsv
from .annotation import annotation_format, from_genbank, read_annotation
from .dedupe import collapse_duplicates
from .labelled import read_labelled
from .tasks import TASK_CLASSES, TaskOptions, task_anchors
from .windows import WindowPolicy, cut_windows, jitter, tile_centres

__all__ = ["run_extract", "WindowPolicy", "TaskOptions", "TASK_CLASSES", "LABEL_COLUMNS"]

LABEL_COLUMNS = ["id", "label", "accession", "gene", "group", "start", "end", "strand"]
GENBANK_KEYS = ("local", "accessions", "genes", "query")
BASE_COUNTS = ("lowercase", "iupac_to_n", "dropped_off_edge", "dropped_too_many_n")


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
    for number, text in enumerate(texts, start=1):
        record = parse_record(text, str(path), number, log)
        yield record.id, bytes(record.seq), from_genbank(record, log)


def reference_records(reference: dict, log):
    """(id, sequence bytes, Annotation) of every annotated sequence of a reference FASTA."""
    fasta, annotation = Path(reference["fasta"]), Path(reference["annotation"])
    for path, key in ((fasta, "fasta"), (annotation, "annotation")):
        if not path.exists():
            raise GenomedlError(f"{path}: file not found (config key source.reference.{key}); fix the path")
    fmt = annotation_format(annotation, reference.get("format"))
    tabix = Path(f"{annotation}.tbi").exists() or Path(f"{annotation}.csi").exists()
    indexed = Path(f"{fasta}.fai").exists()
    try:
        if indexed:
            reader = pysam.FastaFile(str(fasta))
            names = list(reader.references)
            entries = ((name, lambda name=name: reader.fetch(name)) for name in names)
        else:
            reader = pysam.FastxFile(str(fasta))
            entries = ((e.name, lambda e=e: e.sequence or "") for e in reader)
            names = None
        annotations = {} if tabix else read_annotation(annotation, fmt, names or [], log)
        seen, found = set(), 0
        with reader:
            for name, fetch in entries:
                if name in seen:
                    raise GenomedlError(f"{fasta}: sequence name {name!r} appears twice; names must be unique")
                seen.add(name)
                ann = read_annotation(annotation, fmt, [name], log).get(name) if tabix else annotations.get(name)
                if ann is not None:
                    found += 1
                    yield name, fetch().encode(), ann
    except (OSError, ValueError) as exc:
        raise GenomedlError(
            f"{fasta}: not a readable FASTA file ({' '.join(str(exc).split())[:160]}); "
            "give a plain or bgzip-compressed FASTA"
        ) from None
    if not found:
        raise GenomedlError(
            f"{fasta}: no sequence has annotation in {annotation}; check that the annotation's "
            "sequence ids (first column) match the FASTA names"
        )
    missing = sorted(set(annotations) - seen)
    if missing:
        log(f"warning: {annotation}: {len(missing)} sequence(s) not in {fasta}, e.g. {missing[0]}; skipped")


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


def labelled_windows(paths: list[str], policy: WindowPolicy, seed: int):
    """Windows of labelled sequences: each sequence is one run, tiled or centred like a region."""
    data = read_labelled(paths)
    run_start, run_end = data.offsets[:-1], data.offsets[1:]
    centres, owner = tile_centres(run_start, run_end, policy)
    centres = centres + jitter(len(centres), policy, np.random.default_rng(seed))
    start = centres - policy.length // 2
    strand = np.ones(len(start), np.int8)
    windows, kept, counts = cut_windows(data.sequence, start, strand, policy, run_start[owner], run_end[owner])
    owner, local = owner[kept], start[kept] - run_start[owner[kept]]
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
    return frame, windows, {**dict.fromkeys(BASE_COUNTS, 0), **data.counts, **counts}, len(data.table)


def distinct(log):
    """A ``log`` that prints each message once (malformed files repeat one parser warning per line)."""
    seen = set()

    def once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            log(message)

    return once


def run_extract(
    fasta: Path, labels: Path, summary: Path, settings: dict, seed: int, records: Path | None = None, log=print
) -> int:
    """Extract labelled windows from the dataset's source; returns the number of windows written.

    ``settings``: schema section ``extract`` (source, task, task_options, window). ``records`` is the
    fetched GenBank file (GenBank sources); reference and labelled sources are read from the paths in
    the source. Writes ``fasta`` (bgzipped, indexed), ``labels`` (TSV) and ``summary`` (JSON); nothing
    is written unless every input was read without error.
    """
    settings = stage_settings("extract", settings, "datasets.<name>")
    source = settings.get("source") or {}  # none: the GenBank records of ``records``
    task, options, log = settings["task"], settings["task_options"], distinct(log)
    records_path, out_fasta, out_labels, out_summary = records, fasta, labels, summary
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
    origin = records_path
    if kind == "labelled":
        labels, windows, totals, n_records = labelled_windows(source["labelled"], policy, seed)
        origin = ", ".join(source["labelled"])
    else:
        if kind == "genbank" and records_path is None:
            raise GenomedlError("extract needs --records (the fetched GenBank file) for a GenBank source")
        records = (
            genbank_records(Path(records_path), log)
            if kind == "genbank"
            else reference_records(source["reference"], log)
        )
        if kind == "reference":
            origin = source["reference"]["fasta"]
        labels, windows, totals, n_records = annotated_windows(
            records, task, policy, TaskOptions.from_config(options), seed, log
        )
    before = len(labels)
    labels, windows, duplicates = collapse_duplicates(labels, windows)
    if duplicates["conflicting_groups"]:
        log(
            f"warning: {duplicates['conflicting_groups']} groups of identical windows carry different labels; "
            f"all {duplicates['dropped_conflicting']} dropped, e.g. {'; '.join(duplicates['conflict_examples'])}"
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
    classes = sorted(set(labels["label"])) if task == "labelled" else TASK_CLASSES[task]
    found = sorted(set(labels["label"]))
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
    }
    write_json(summary, out_summary)
    log(
        f"extract: {len(labels)} windows of {policy.length} bp from {n_records} records; classes "
        f"{summary['class_counts']}; duplicates collapsed {duplicates['exact'] + duplicates['reverse_complement']}, "
        f"dropped for conflicting labels {duplicates['dropped_conflicting']}"
    )
    return len(labels)
