"""Kill and resume: SIGKILL `genomedl train` mid-epoch, rerun it, and see it continue from the last checkpoint."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
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
    assert "srun" not in second.stderr and "LeafSpec" not in second.stderr  # Lightning's noise, on any machine
    run = read_json(out / "run.json")
    assert run["resumed"] and run["resumed_from_epoch"] == done_epochs
    assert run["epochs_run"] == EPOCHS
    assert run["samples_per_rank"] == [(EPOCHS - done_epochs) * 1200]  # only the remaining epochs were trained
    after = read_tsv(out / "history.tsv")
    assert after["epoch"].tolist() == list(range(1, EPOCHS + 1))
    kept = before[before["epoch"] <= done_epochs]
    assert after.iloc[:done_epochs][["train_loss", "val_loss"]].equals(kept[["train_loss", "val_loss"]])


# Run the CLI in a subprocess that SIGKILLs itself when epoch KILL_AT + 1 starts, i.e. right after the checkpoint
# callbacks of epoch KILL_AT (1-based) ran: a kill at a known point, with no timing race.
KILL_AFTER_EPOCH = """
import os, signal, sys
import lightning as L
from genomedl.cli import main

class Kill(L.Callback):
    def on_train_epoch_start(self, trainer, module):
        if trainer.current_epoch == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)

init = L.Trainer.__init__
L.Trainer.__init__ = lambda self, *a, callbacks=(), **k: init(self, *a, callbacks=[Kill(), *callbacks], **k)
sys.exit(main(sys.argv[1:]))
"""
# a high constant rate with random strand flips and class weights: validation loss that does not only fall
NOISY = {**SETTINGS, "epochs": 5, "patience": 5, "lr": 0.05, "batch_size": 16, "dropout": 0.2, "schedule": "none"}
NOISY |= {"rc_augment": True, "imbalance": "class_weight", "weight_decay": 0.01}
NOISY |= {"dense_batch_norm": True}  # without it this 8-unit head dies at lr 0.05 and training stops as collapsed


@pytest.mark.parametrize("ema_epochs", [0, 2])
def test_kill_after_an_epoch_loses_no_epoch_and_ends_with_the_unbroken_weights(tmp_path, ema_epochs):
    """Without weight averaging, killed right after an epoch that did not improve val_loss (last.ckpt is
    written then too); with it (the cnn default), after epoch 2: the average resumes where it was."""
    paths = write_synthetic(tmp_path / "data", n=600, length=60)  # 360 training windows: 23 steps per epoch
    settings = {**NOISY, "ema_epochs": ema_epochs}
    unbroken = tmp_path / "unbroken"
    command = train_command(paths, unbroken, settings, seed=7)
    assert subprocess.run(command, capture_output=True, timeout=300, env=single_thread_env()).returncode == 0
    losses = read_tsv(unbroken / "history.tsv")["val_loss"].tolist()
    worse = [e for e in range(2, len(losses) + 1) if losses[e - 1] >= min(losses[: e - 1])]
    if ema_epochs:
        kill_at = 2
    else:
        assert worse and worse[0] < NOISY["epochs"], f"no non-improving epoch to kill after: {losses}"
        kill_at = worse[0]  # 1-based: this epoch did not improve val_loss

    out = tmp_path / "out"
    command = train_command(paths, out, settings, seed=7)
    killed = subprocess.run(
        [command[0], "-c", KILL_AFTER_EPOCH, *command[3:]],
        capture_output=True,
        timeout=300,
        env={**single_thread_env(), "KILL_AT": str(kill_at)},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    best = torch.load(out / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] + 1 == kill_at
    assert ema_epochs or best["epoch"] + 1 < kill_at  # last.ckpt also after a worse epoch

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=single_thread_env())
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert f"(epoch {kill_at} done)" in resumed.stdout
    run, reference = read_json(out / "run.json"), read_json(unbroken / "run.json")
    assert run["samples_per_rank"] == [(NOISY["epochs"] - kill_at) * 360]  # no finished epoch redone
    assert read_tsv(out / "history.tsv")["epoch"].tolist() == list(range(1, NOISY["epochs"] + 1))
    assert run["best_epoch"] == reference["best_epoch"]
    weights = torch.load(out / "model.ckpt", weights_only=True)["state_dict"]
    expected = torch.load(unbroken / "model.ckpt", weights_only=True)["state_dict"]
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in weights)
