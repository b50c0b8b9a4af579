"""Extraction of the 2.2 Mb GenBank record UD_139262478721.gb vs parsing it with Biopython alone.

Run by hand:  python benchmarks/bench_extract.py [--data ../shared/data] [--repeat 5] [--append]
Both sides run in one process, alternately, best of ``--repeat``; ``--append`` adds the table to
benchmarks/RESULTS.md under the extract heading. The parse share says whether a faster GenBank parser
(e.g. gb-io) would pay off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import timeit
from pathlib import Path

import pysam
from Bio import SeqIO, bgzf

from genomedl.stages.extract import run_extract
from genomedl.windows.annotation import genbank_records

REPO = Path(__file__).resolve().parents[1]
RECORD = "genbank/UD_139262478721.gb"


def best(fn, repeat: int) -> float:
    """Fastest of ``repeat`` single calls, in seconds."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("GENOMEDL_SHARED_DATA", REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--append", action="store_true", help="append the results to benchmarks/RESULTS.md")
    args = parser.parse_args()
    path = args.data / RECORD
    quiet = dict(log=lambda *a: None)
    rows = [
        ("Biopython SeqIO.read (parse only)", best(lambda: bytes(SeqIO.read(path, "genbank").seq), args.repeat)),
        ("genomedl parse + annotation model", best(lambda: list(genbank_records(path, **quiet)), args.repeat)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for task in ("exon_intron", "splice_site", "region"):
            rows.append(
                (
                    f"genomedl extract, task {task} (200 bp, stride 100, indexed FASTA written)",
                    best(
                        lambda: run_extract(
                            out / "s.fa.gz",
                            out / "l.tsv",
                            out / "s.json",
                            {"task": task},
                            seed=0,
                            records=path,
                            **quiet,
                        ),
                        args.repeat,
                    ),
                )
            )
        windows = sum(1 for _ in open(out / "l.tsv")) - 1
        plain = out / "plain.fa"  # the last run's windows, uncompressed
        with pysam.FastxFile(str(out / "s.fa.gz")) as reader:
            plain.write_bytes(b"".join(f">{e.name}\n{e.sequence}\n".encode() for e in reader))
        data = plain.read_bytes()

        def bgzf_level1():
            with bgzf.BgzfWriter(str(out / "b1.fa.gz"), "wb", compresslevel=1) as handle:
                handle.write(data)

        rows.append(
            (
                "FASTA compression: pysam.tabix_compress (zlib default level)",
                best(lambda: pysam.tabix_compress(str(plain), str(out / "p.fa.gz"), force=True), args.repeat),
            )
        )
        rows.append(("FASTA compression: Bio.bgzf level 1 (what extract uses)", best(bgzf_level1, args.repeat)))
    parse = rows[0][1]
    lines = [
        f"### extract: {RECORD} ({path.stat().st_size / 1e6:.1f} MB), {dt.date.today()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, best of {args.repeat}",
        "",
        "| step | seconds | ratio to Biopython parse |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {seconds:.3f} | {seconds / parse:.1f} |" for name, seconds in rows]
    lines += [
        "",
        f"Last run (region task) wrote {windows} windows. Parsing (Biopython) is "
        f"{100 * parse / rows[2][1]:.0f}% of the exon_intron extraction.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.append:
        results = REPO / "benchmarks" / "RESULTS.md"
        previous = results.read_text() if results.exists() else "# Benchmark results\n"
        heading = "## Extract (issue 5)"
        body = previous if heading in previous else previous.rstrip("\n") + f"\n\n{heading}\n"
        results.write_text(body.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
