"""DDP without GPUs: two CPU processes (gloo) train the same model as one process, within tolerance."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch

from genomedl.inference import load_model
from genomedl.tables import read_json, read_tsv
from helpers import single_thread_env, train, train_command, write_synthetic

pytestmark = pytest.mark.usefixtures("one_thread")

# full-batch training on balanced classes: the mean of the two ranks' gradients equals the one-process gradient
SETTINGS = {
    "arch": "dnn",
    "hidden": [16, 8],
    "batch_norm": False,
    "dropout": 0.0,
    "rc_augment": False,
    "epochs": 3,
    "batch_size": 120,
    "lr": 0.01,
    "patience": 5,
    "accelerator": "cpu",
}


def test_two_gloo_ranks_match_one_process(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=200, balanced=True)
    single = train(paths, tmp_path / "one", {**SETTINGS, "devices": 1})
    command = train_command(paths, tmp_path / "two", {**SETTINGS, "devices": 2}, seed=1)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=single_thread_env())
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = read_json(tmp_path / "two" / "run.json")
    assert ddp["world_size"] == 2 and single["world_size"] == 1
    # each rank trained on its own half of the 120 training windows in each of the 3 epochs
    assert ddp["samples_per_rank"] == [180, 180] and single["samples_per_rank"] == [360]
    one_hist, two_hist = read_tsv(tmp_path / "one" / "history.tsv"), read_tsv(tmp_path / "two" / "history.tsv")
    np.testing.assert_allclose(two_hist["val_loss"], one_hist["val_loss"], rtol=1e-4)
    np.testing.assert_allclose(two_hist["train_loss"], one_hist["train_loss"], rtol=1e-4)
    assert one_hist["val_loss"].iloc[-1] != one_hist["val_loss"].iloc[0]  # the weights did move
    one_model, _ = load_model(tmp_path / "one" / "model.ckpt")
    two_model, _ = load_model(tmp_path / "two" / "model.ckpt")
    for (name, a), b in zip(one_model.state_dict().items(), two_model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=name)
