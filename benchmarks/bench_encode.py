"""Encoding 1 M sequences of 200 bp: genomedl's tokens vs tangermeme's one_hot_encode vs a kipoiseq-style lookup.

Run by hand:  python benchmarks/bench_encode.py [--n 1000000] [--tangermeme-n 100000] [--stage] [--append]

Everything runs on one core (torch and numba limited to one thread), in one process, best of
``--repeat``. Throughput is Mbp/s of input. The encoders:

- genomedl: ``bytes_to_tokens`` over the raw bytes of all sequences (uint8 tokens, 1 byte/base;
  one-hot happens on the device inside the model), and the same starting from Python strings.
- tangermeme ``one_hot_encode``, once per sequence (int8 one-hot [4, L]), on ``--tangermeme-n``
  sequences when calling it 1 M times takes too long; and once on all sequences joined (its best case).
- kipoiseq-style: ``np.frombuffer(seq.encode())`` indexed into a [256, 4] float32 table, once per
  sequence, as kipoiseq's ``one_hot_dna`` does (written here, it is the comparison point).

``--stage`` also times the whole encode stage (bgzipped FASTA -> tokens.npy) against reading the same
FASTA with pysam.FastxFile record by record.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import timeit
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tangermeme.utils import one_hot_encode  # noqa: E402

from genomedl.encoding.tokens import bytes_to_tokens  # noqa: E402
from results_md import machine, publish  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KIPOI_TABLE = np.zeros((256, 4), dtype=np.float32)
for _i, _b in enumerate(b"ACGT"):
    KIPOI_TABLE[_b, _i] = KIPOI_TABLE[_b + 32, _i] = 1.0
KIPOI_TABLE[[ord("N"), ord("n")]] = 0.25


def kipoiseq_style(seq: str) -> np.ndarray:
    """One-hot ``[L, 4]`` float32 of one sequence by a byte-indexed table (kipoiseq's approach)."""
    return KIPOI_TABLE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def best(fn, repeat: int) -> float:
    """Fastest of ``repeat`` single calls, in seconds."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def stage(seqs: list[str], repeat: int) -> list[tuple[str, float, str]]:
    """(name, seconds, note) for the encode stage and a pysam record loop on one bgzipped FASTA."""
    import pandas as pd
    import pysam

    from genomedl.stages.encode import run_encode
    from genomedl.tables import write_tsv

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ids = [f"w{i}" for i in range(len(seqs))]
        with open(folder / "s.fa", "w") as handle:
            handle.write("".join(f">{i}\n{s}\n" for i, s in zip(ids, seqs)))
        pysam.tabix_compress(str(folder / "s.fa"), str(folder / "s.fa.gz"))
        write_tsv(
            pd.DataFrame(
                {
                    "id": ids,
                    "label": "a",
                    "accession": "x",
                    "gene": "",
                    "group": "x",
                    "start": 0,
                    "end": len(seqs[0]),
                    "strand": "+",
                }
            ),
            folder / "labels.tsv",
        )

        def ours():
            run_encode(
                folder / "s.fa.gz", folder / "labels.tsv", folder / "t.npy", folder / "m.json", log=lambda *a: None
            )

        def pysam_loop():
            with pysam.FastxFile(str(folder / "s.fa.gz")) as reader:
                for entry in reader:
                    bytes_to_tokens(entry.sequence.encode())

        return [
            ("genomedl encode stage (bgzipped FASTA -> tokens.npy, incl. labels.tsv)", best(ours, repeat), ""),
            ("pysam.FastxFile loop + the same lookup per record", best(pysam_loop, repeat), ""),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument(
        "--tangermeme-n", type=int, default=100_000, help="sequences for the per-sequence tangermeme and kipoiseq loops"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stage", action="store_true", help="also time the whole encode stage")
    parser.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rng = np.random.default_rng(0)
    raw = np.frombuffer(b"ACGTN", np.uint8)[rng.choice(5, size=(args.n, args.length), p=[0.2475] * 4 + [0.01])]
    seqs = [row.tobytes().decode() for row in raw]
    joined = raw.tobytes()
    sub = seqs[: args.tangermeme_n]
    one_hot_encode(sub[0])  # compile numba kernels outside the timing
    one_hot_encode("".join(sub[:1000]))

    rows = [  # (name, seconds, sequences, note)
        (
            "genomedl bytes_to_tokens, raw bytes (uint8 tokens)",
            best(lambda: bytes_to_tokens(joined), args.repeat),
            args.n,
            "the encode stage's path",
        ),
        (
            "genomedl bytes_to_tokens, from Python strings",
            best(lambda: bytes_to_tokens("".join(seqs).encode()), args.repeat),
            args.n,
            "join + encode included",
        ),
        (
            "tangermeme one_hot_encode per sequence (int8 one-hot)",
            best(lambda: [one_hot_encode(s) for s in sub], args.repeat),
            len(sub),
            "",
        ),
        (
            "tangermeme one_hot_encode on all sequences joined",
            best(lambda: one_hot_encode("".join(seqs)), args.repeat),
            args.n,
            "its best case",
        ),
        (
            "kipoiseq-style table lookup per sequence (float32 one-hot)",
            best(lambda: [kipoiseq_style(s) for s in sub], args.repeat),
            len(sub),
            "",
        ),
    ]
    table = [(name, n * args.length / seconds / 1e6, n, note) for name, seconds, n, note in rows]
    if args.stage:
        table += [
            (name, args.n * args.length / seconds / 1e6, args.n, note)
            for name, seconds, note in stage(seqs, max(1, args.repeat - 1))
        ]
    ours = table[0][1]
    lines = ["| encoder | sequences | Mbp/s | genomedl raw-bytes speed-up | note |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {n:,} | {mbps:,.0f} | {ours / mbps:,.1f}x | {note} |" for name, mbps, n, note in table]
    publish(
        f"\n## encode (benchmarks/bench_encode.py)\n\n{machine()}; {args.n:,} random sequences "
        f"of {args.length} bp (1% N), best of {args.repeat}; Mbp/s of input.\n\n" + "\n".join(lines) + "\n",
        args.append,
    )


if __name__ == "__main__":
    main()
