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


@pytest.mark.parametrize(
    "script, rows",
    [
        (
            "bench_train_gpu.py",
            [
                "| cnn (Basset-like) | 32 | no |",
                "| cnn (Basset-like) | 32 | yes |",
                "| bilstm 2x256 | 32 | no |",
                "| bilstm 2x256 | 32 | yes |",
            ],
        ),
        ("bench_bert_gpu.py", ["| tiny BERT 60 tokens | 8 | no |", "| tiny BERT 60 tokens | 8 | yes |"]),
    ],
)
def test_benchmark_smoke_runs_without_pysam(script, rows, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED, str(REPO / "benchmarks" / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        env=single_thread_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("device: cpu; equal on both sides:")
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == len(rows) + 1 and all(any(line.startswith(row) for line in table) for row in rows)
    assert all(line.count("|") == 9 and "x |" in line for line in table[1:])  # every cell filled, a ratio
