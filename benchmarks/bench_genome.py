"""A real chromosome through the workflow: config/arabidopsis.yaml (A. thaliana chromosome 1, three tasks; A. arenosa).

Run by hand:  python benchmarks/bench_genome.py [--workdir DIR] [--cores 2] [--genome-cores 64] [--epochs N]
                                                [--until split] [--append]
The workflow is copied into ``--workdir`` and run with snakemake as a user runs it; each job's wall time, CPU time
and peak memory come from its ``benchmark:`` file. Mbp/s is the dataset's reference length over the job's wall time.
The projection to a 3.1 Gbp genome assumes work proportional to sequence length (annotation density like chromosome 1),
extraction scattered over sequence groups (one job per group, ``--genome-cores`` jobs at once) and the other
stages run as they are here (one job per dataset); ``--append`` adds the table to benchmarks/RESULTS.md.
``--epochs`` overrides the CNN's epochs (a shorter run; the table says so).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from results_md import machine, publish

REPO = Path(__file__).resolve().parents[1]
CHROMOSOME_MBP = 30.427671  # NC_003070.9, A. thaliana chromosome 1
GENOME_MBP = 3100.0
STAGES = (
    "extract",
    "extract_part",
    "encode",
    "split",
    "qc",
    "baseline",
    "train",
    "evaluate",
    "interpret",
    "transfer",
    "export",
    "report",
)
SCATTERED = {"extract", "extract_part"}  # one job per sequence group on a genome


def run_workflow(workdir: Path, cores: int, epochs: int | None, targets: list[str]) -> float:
    """Copy the workflow into ``workdir`` and run config/arabidopsis.yaml; returns the wall time in s."""
    for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
        source, target = REPO / name, workdir / name
        if not target.exists():
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    config = yaml.safe_load((REPO / "config/arabidopsis.yaml").read_text())
    if epochs is not None:
        config["models"]["cnn"]["epochs"] = epochs
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", *targets, "--cores", str(cores), "--configfile", "bench.yaml"],
        cwd=workdir,
        check=True,
    )
    return time.perf_counter() - started


def dataset_mbp(workdir: Path) -> dict[str, float]:
    """Mbp of each dataset's reference, from the .fai beside its FASTA."""
    config = yaml.safe_load((workdir / "bench.yaml").read_text())
    out = {}
    for name, dataset in config["datasets"].items():
        fai = workdir / f"{dataset['source']['reference']['fasta']}.fai"
        out[name] = sum(int(line.split("\t")[1]) for line in fai.read_text().splitlines()) / 1e6
    return out


def stage_table(workdir: Path, genome_cores: int) -> pd.DataFrame:
    """One row per job of the run: dataset, stage, wall s, CPU s, peak RSS MB, Mbp/s, projected genome hours."""
    rows, mbp = [], dataset_mbp(workdir)
    for path in sorted(workdir.glob("results/*/benchmarks/**/*.tsv")):
        dataset, stage = path.relative_to(workdir / "results").parts[0], path.relative_to(workdir).parts[3]
        stage = stage.removesuffix(".tsv")
        if stage not in STAGES:
            continue
        bench = pd.read_csv(path, sep="\t").iloc[0]
        wall = float(bench["s"])
        scale = GENOME_MBP / mbp[dataset] / (genome_cores if stage in SCATTERED else 1)
        rows.append(
            {
                "dataset": dataset,
                "stage": stage + (f" ({path.stem})" if path.parent.name != "benchmarks" else ""),
                "wall_s": wall,
                "cpu_s": float(bench["cpu_time"]),
                "peak_mb": float(bench["max_rss"]),
                "mbp_per_s": mbp[dataset] / wall,
                "genome_h": wall * scale / 3600,
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, total: float, args) -> str:
    lines = [
        "\n## A real chromosome: config/arabidopsis.yaml (benchmarks/bench_genome.py, issue 19)\n",
        f"A. thaliana chromosome 1 ({CHROMOSOME_MBP:.1f} Mbp, NCBI RefSeq GFF3) and A. arenosa chromosomes 1-2 "
        "(45.3 Mbp, the transfer target) through snakemake "
        f"--cores {args.cores}, targets {' '.join(args.until) or 'all'}"
        + (f", CNN epochs {args.epochs} instead of the default" if args.epochs is not None else "")
        + f"; whole run {total:.0f} s. {machine(f'{args.cores} snakemake cores')}. "
        f"Projection to {GENOME_MBP:.0f} Mbp: work proportional to length; extraction on {args.genome_cores} "
        "cores (one job per sequence group), other stages as here.\n",
        "| dataset | stage | wall s | CPU s | peak MB | Mbp/s | 3.1 Gbp projected h |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.dataset} | {r.stage} | {r.wall_s:.1f} | {r.cpu_s:.1f} | {r.peak_mb:.0f} | {r.mbp_per_s:.2f} "
            f"| {r.genome_h:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="where the workflow runs (default: a temporary folder)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--genome-cores", type=int, default=64, help="cores the genome projection assumes")
    parser.add_argument("--epochs", type=int, help="CNN epochs (default: the schema's)")
    parser.add_argument("--until", nargs="*", default=[], help="snakemake targets (default: the whole workflow)")
    parser.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        total = run_workflow(workdir, args.cores, args.epochs, args.until)
        publish(markdown(stage_table(workdir, args.genome_cores), total, args), args.append)


if __name__ == "__main__":
    main()
