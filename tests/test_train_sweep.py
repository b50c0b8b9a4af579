"""Sweeps in the workflow: a model entry listing several values becomes one train job per combination."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_dry_run_has_one_train_job_per_combination(tmp_path):
    for part in ("Snakefile", "workflow", "config", "envs"):
        copy = shutil.copytree if (REPO / part).is_dir() else shutil.copy
        copy(REPO / part, tmp_path / part)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["models"]["cnn"].update(lr=[0.001, 0.0003], dropout=[0.1, 0.3])
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--cores", "1", "--configfile", "sweep.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    commands = [line for line in (done.stdout + done.stderr).splitlines() if "genomedl train " in line]
    names = sorted({line.split("--name ")[1].split()[0] for line in commands} - set(config["models"]))
    assert names == [
        "cnn__dropout-0.1__lr-0.0003",
        "cnn__dropout-0.1__lr-0.001",
        "cnn__dropout-0.3__lr-0.0003",
        "cnn__dropout-0.3__lr-0.001",
    ]
    one = next(line for line in commands if "--name cnn__dropout-0.3__lr-0.001 " in line)
    assert '"dropout": 0.3' in one and '"lr": 0.001' in one and '"group": "cnn"' in one
    # the demo's `predict: models: [cnn]` now stands for every model of the sweep
    predicted = {
        line.split("--model-dir ")[1].split()[0].split("/")[-1]
        for line in (done.stdout + done.stderr).splitlines()
        if "genomedl predict " in line
    }
    assert predicted == set(names)
