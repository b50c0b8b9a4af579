"""The GPU benchmarks' CPU smoke runs: end to end through run_train / run_pretrain, with pysam unimportable
(as on a bare GPU node), and a table that names the device and has every row."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import REPO, single_thread_env

# pysam = None in sys.modules makes every `import pysam` raise, as on a machine without it; the script's folder
# goes first on sys.path, as `python benchmarks/<script>` has it
BLOCKED = (
    "import os, runpy, sys; sys.modules['pysam'] = None; sys.argv = sys.argv[1:]; "
    "sys.path.insert(0, os.path.dirname(sys.argv[0])); runpy.run_path(sys.argv[0], run_name='__main__')"
)


def smoke_run(script: str, cwd) -> list[str]:
    """The stdout lines of ``benchmarks/<script> --smoke`` with pysam unimportable; fails on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED, str(REPO / "benchmarks" / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        env=single_thread_env(),
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    "script, rows",
    [
        (
            "bench_train_gpu.py",
            [
                "| cnn (genomedl default network) | 32 | no |",
                "| cnn (genomedl default network) | 32 | yes |",
                "| bilstm 2x256 | 32 | no |",
                "| bilstm 2x256 | 32 | yes |",
            ],
        ),
        ("bench_bert_gpu.py", ["| tiny BERT 60 tokens | 8 | no |", "| tiny BERT 60 tokens | 8 | yes |"]),
    ],
)
def test_benchmark_smoke_runs_without_pysam(script, rows, tmp_path):
    lines = smoke_run(script, tmp_path)
    assert lines[0].startswith("device: cpu; equal on both sides:")
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == len(rows) + 1 and all(any(line.startswith(row) for line in table) for row in rows)
    assert all(line.count("|") == 9 and "x |" in line for line in table[1:])  # every cell filled, a ratio


def test_batch_size_benchmark_smoke_run_times_each_batch_with_the_default_recipe(tmp_path):
    lines = smoke_run("bench_cnn_batch_gpu.py", tmp_path)
    assert lines[0].startswith("device: cpu; default cnn recipe, 400 windows")
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert [row[0] for row in rows] == ["| 8", "| 32"]
    assert rows[0][3] == "1.0x" and all(float(row[2].replace(",", "")) > 0 for row in rows)
