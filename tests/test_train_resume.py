"""Kill and resume: SIGKILL `genomedl train` mid-epoch, rerun it, and see it continue from the last checkpoint."""

from __future__ import annotations

import signal
import subprocess
import time

import torch

from genomedl.tables import read_json, read_tsv
from helpers import single_thread_env, train_command, write_synthetic

EPOCHS = 2
SETTINGS = {
    "arch": "cnn",
    "filters": [8],
    "kernels": [5],
    "pools": [4],
    "hidden": [8],
    "epochs": EPOCHS,
    "batch_size": 8,
    "lr": 0.003,
    "patience": EPOCHS,
}


def test_sigkill_mid_epoch_then_rerun_resumes(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=2000, length=60)  # 1200 training windows: 150 steps per epoch
    out = tmp_path / "out"
    command = train_command(paths, out, SETTINGS, seed=3)
    last = out / "checkpoints" / "last.ckpt"
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=single_thread_env())
    deadline = time.time() + 240
    while not last.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # into the next epoch
    first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL, "training ended before it could be killed"
    done_epochs = torch.load(last, map_location="cpu", weights_only=True)["epoch"] + 1
    assert 1 <= done_epochs < EPOCHS and not (out / "run.json").exists()
    before = read_tsv(out / "history.tsv")

    second = subprocess.run(command, capture_output=True, text=True, timeout=300, env=single_thread_env())
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"resuming m from {last} (epoch {done_epochs} done)" in second.stdout
    run = read_json(out / "run.json")
    assert run["resumed"] and run["resumed_from_epoch"] == done_epochs
    assert run["epochs_run"] == EPOCHS
    assert run["samples_per_rank"] == [(EPOCHS - done_epochs) * 1200]  # only the remaining epochs were trained
    after = read_tsv(out / "history.tsv")
    assert after["epoch"].tolist() == list(range(1, EPOCHS + 1))
    kept = before[before["epoch"] <= done_epochs]
    assert after.iloc[:done_epochs][["train_loss", "val_loss"]].equals(kept[["train_loss", "val_loss"]])
