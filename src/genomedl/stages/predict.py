"""Predict stage: class probabilities of a trained model on new sequences (FASTA, CSV), on regions of
a reference genome (BED), and the effect of variants (VCF/BCF) on them.

Writes, under ``out_dir``: ``windows.tsv`` (one row per window: name, chrom, start, end, n_padded,
``p_<class>``, predicted), ``tracks/<class>.bedgraph`` + ``.bw`` and ``summary.json`` for sequences and regions;
:mod:`.variants` writes the variant outputs. See docs/predict.md.
"""

from __future__ import annotations

import mmap
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.atomic import atomic_dir, atomic_path
from genomedl.config import stage_settings
from genomedl.console import log
from genomedl.errors import GenomedlError
from genomedl.prediction.inputs import bed_regions, read_csv, read_fasta
from genomedl.prediction.tiling import gather_windows, tile_chunks, window_bins, window_counts, window_starts
from genomedl.prediction.tracks import TrackWriter
from genomedl.provenance import utc_now
from genomedl.scoring import Progress, load_scorer
from genomedl.tables import write_json


def probability_columns(probs: np.ndarray, classes: list[str]) -> dict:
    """``{p_<class>: probabilities rounded to 6 decimals}``."""
    return {f"p_{c}": probs[:, i].round(6) for i, c in enumerate(classes)}


def run_predict(
    model_dir: Path,
    out_dir: Path,
    kind: str,
    path: Path,
    settings: dict,
    reference: Path | None = None,
    device: str | None = None,
    log=log,
) -> dict:
    """Score ``path`` (a ``kind`` of :data:`~genomedl.choices.PREDICT_KINDS`) with the model in ``model_dir``;
    write the outputs in ``out_dir`` and return the summary. ``settings``: schema section ``predict``
    (stride, batch_size, strands, max_allele, top, max_ref_mismatch, unknown_contigs)."""
    settings = stage_settings("predict", settings, "datasets.<name>.predict")
    stride, batch_size, strands = settings["stride"], settings["batch_size"], settings["strands"]
    max_allele, top = settings["max_allele"], settings["top"]
    if kind in ("bed", "vcf") and reference is None:
        raise GenomedlError(f"{path}: a {kind.upper()} input needs --reference (an indexed FASTA)")
    if not Path(path).is_file():
        raise GenomedlError(f"{path}: {kind.upper()} input not found; fix the path")
    t0, started = time.time(), utc_now()
    scorer = load_scorer(model_dir, device=device, strands=strands)
    log(f"predict: {scorer.name} ({scorer.arch}, {scorer.length} bp windows, {scorer.strands}) on {scorer.device}")
    summary = {
        "model": scorer.name,
        "arch": scorer.arch,
        "classes": scorer.classes,
        "input": str(path),
        "kind": kind,
        "reference": str(reference) if reference else None,
        "window_length": scorer.length,
        "strands": "both" if scorer.both_strands else "forward",
        "temperature": scorer.temperature,  # the validation temperature the probabilities are rescaled by
        "device": scorer.device,
        "started_at": started,
    }
    if kind == "vcf":
        from genomedl.prediction.variants import score_variants

        summary.update(
            score_variants(
                scorer,
                Path(path),
                Path(reference),
                Path(out_dir),
                batch_size,
                max_allele,
                top,
                max_ref_mismatch=settings["max_ref_mismatch"],
                unknown_contigs=settings["unknown_contigs"],
                log=log,
            )
        )
    else:
        summary.update(predict_regions(scorer, kind, Path(path), reference, stride, batch_size, Path(out_dir), log))
    summary.update(seconds=round(time.time() - t0, 2), finished_at=utc_now())
    write_json(summary, Path(out_dir) / "summary.json")
    return summary


class WindowRows:
    """windows.tsv written chunk by chunk while regions are scored in track order, then put back in the input's
    region order: rows go to a scratch file, where each region's rows begin is kept, and the regions' byte
    ranges are copied in input order at the end (memory: one integer per region)."""

    def __init__(self, scratch: Path, regions: int):
        self.scratch = open(scratch, "w+b")
        self.first = np.zeros(regions, dtype=np.int64)  # byte offset of the rows of the p-th region scored
        self.header, self.last = b"", -1

    def add(self, table: pd.DataFrame, region: np.ndarray) -> None:
        """Rows of ``table``: windows of the ``region``-th regions scored ``[w]`` (each region's rows together)."""
        header, _, body = table.to_csv(sep="\t", index=False, lineterminator="\n").encode().partition(b"\n")
        self.header = header + b"\n"
        ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n")) + 1
        starts = self.scratch.tell() + np.r_[0, ends[:-1]]
        new = np.r_[region[0] != self.last, region[1:] != region[:-1]]
        self.first[region[new]] = starts[new]
        self.last = region[-1]
        self.scratch.write(body)

    def write(self, out: Path, order: np.ndarray) -> None:
        """windows.tsv with the regions in input order; ``order[p]``: the input index of the p-th region scored."""
        end = np.r_[self.first[1:], self.scratch.tell()]
        self.scratch.flush()
        with atomic_path(out) as tmp, open(tmp, "wb") as handle, mmap.mmap(self.scratch.fileno(), 0) as rows:
            handle.write(self.header)
            with memoryview(rows) as view:  # slices of a view copy nothing
                for p in np.argsort(order):
                    handle.write(view[self.first[p] : end[p]])
        self.scratch.close()


def predict_regions(
    scorer,
    kind: str,
    path: Path,
    reference: Path | None,
    stride: int | None,
    batch_size: int,
    out_dir: Path,
    log=log,
    chunk: int = 1 << 14,
) -> dict:
    """Tile the sequences or BED regions, score the windows ``chunk`` at a time and append them to windows.tsv
    and the bedGraph and bigWig tracks: memory is bounded by the chunk, not by the regions (whole chromosomes
    of an indexed reference) or the number of windows."""
    length = scorer.length
    stride = int(stride or max(length // 2, 1))
    with ExitStack() as stack:
        if kind == "bed":
            regions = stack.enter_context(bed_regions(path, Path(reference)))
        else:
            regions = (read_fasta if kind == "fasta" else read_csv)(path, pad=length)
        counts = score_regions(scorer, regions, path, kind, stride, batch_size, out_dir, chunk, log)
    log(
        f"predict: {counts['windows']} windows of {len(regions.names)} {'regions' if kind == 'bed' else 'sequences'} "
        f"(stride {stride} bp; {counts['padded_windows']} windows padded with N)"
    )
    return {"stride": stride, "sequences": len(regions.names), **counts}


def shorter_ones(regions, length: int, n: int = 5) -> str:
    """``name (bp), ...`` of the first ``n`` of ``regions`` shorter than ``length`` bp, in input order."""
    sizes = regions.end - regions.begin
    short = np.flatnonzero(sizes < length)
    listed = ", ".join(f"{regions.names[i]} ({sizes[i]} bp)" for i in short[:n])
    return listed + (f" and {len(short) - n} more (n_padded in windows.tsv)" if len(short) > n else "")


def score_regions(scorer, regions, path: Path, kind: str, stride: int, batch_size: int, out_dir, chunk, log):
    """Score every window of ``regions`` in track order (chrom, start), writing the outputs as it goes; returns
    the counts of the summary."""
    length, classes = scorer.length, scorer.classes
    order = pd.DataFrame({"chrom": regions.chrom, "begin": regions.begin}).sort_values(
        ["chrom", "begin"], kind="stable"
    )
    order = order.index.to_numpy()
    begin, end, limit = regions.begin[order], regions.end[order], regions.limit[order]
    chrom = np.asarray(regions.chrom, dtype=object)[order]
    names = np.asarray(regions.names, dtype=object)[order]
    n = window_counts(begin, end, length, stride)
    short = end - begin < length
    predicted = np.zeros(len(classes), dtype=np.int64)
    padded_windows = short_padded = 0
    progress = Progress(int(n.sum()), f"predict {path.name}", log)
    sizes = dict(zip(chrom.tolist(), limit.tolist()))
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_dir / "tracks") as folder, tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        tracks = TrackWriter(folder, classes, f"{scorer.name} {path.stem}", sizes)
        rows = WindowRows(Path(scratch) / "windows.tsv", len(order))
        try:
            for region, k in tile_chunks(begin, end, length, stride, chunk):
                args = (begin[region], end[region], n[region], k, length, stride)
                starts = window_starts(*args)
                probs = scorer.proba(
                    gather_windows(lambda i, lo, hi: regions.fetch(order[i], lo, hi), region, starts, length),
                    batch_size,
                    progress,
                )
                padded = np.maximum(-starts, 0) + np.maximum(starts + length - limit[region], 0)
                table = pd.DataFrame(
                    {
                        "name": names[region],
                        "chrom": chrom[region],
                        "start": starts,
                        "end": starts + length,
                        "n_padded": padded,
                        **probability_columns(probs, classes),
                        "predicted": np.asarray(classes, dtype=object)[probs.argmax(1)],
                    }
                )
                rows.add(table, region)
                tracks.add(chrom[region], *window_bins(*args), probs)
                predicted += np.bincount(probs.argmax(1), minlength=len(classes))
                padded_windows += int((padded > 0).sum())
                short_padded += int(padded[short[region]].sum())
        finally:
            written = tracks.close()
        rows.write(out_dir / "windows.tsv", order)
    progress.close()
    if kind != "bed" and short.any():
        log(
            f"warning: {path}: {int(short.sum())} of {len(short)} sequences are shorter than the model's {length} bp "
            f"window: {shorter_ones(regions, length)}; their windows are N-padded "
            f"({short_padded / (short.sum() * length):.0%} of their bases)"
        )
    return {
        "windows": int(n.sum()),
        "padded_windows": padded_windows,
        "predicted": {c: int(predicted[i]) for i, c in enumerate(classes)},
        "outputs": ["windows.tsv"] + [f"tracks/{p.name}" for p in written],
    }
