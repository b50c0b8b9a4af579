"""Imbalance strategies: loss weights, balanced epochs, and minority recall on a 1:50 set."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genomedl.errors import GenomedlError
from genomedl.training.imbalance import class_weights, make_train_sampler

MOTIF = torch.tensor([3, 0, 3, 0, 0, 3, 2, 1])  # TATAATGC


def test_class_weights_are_inverse_frequency():
    labels = np.array([0] * 90 + [1] * 10)
    weights = class_weights(labels, 2)
    assert weights.tolist() == pytest.approx([100 / (2 * 90), 100 / (2 * 10)])
    assert float((weights * torch.tensor([90.0, 10.0])).sum()) == pytest.approx(100)


@pytest.mark.parametrize("strategy, per_class", [("oversample", 60), ("undersample", 4)])
def test_balanced_epochs_hold_the_reported_counts(strategy, per_class):
    labels = np.array([0] * 60 + [1] * 4 + [2] * 9)
    sampler, weights, counts = make_train_sampler(labels, strategy, seed=1)
    assert weights is None and counts == {0: per_class, 1: per_class, 2: per_class}
    epochs = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        drawn = np.array(list(sampler))
        assert len(drawn) == len(sampler) == 3 * per_class
        assert np.bincount(labels[drawn]).tolist() == [per_class] * 3
        for c in range(3):  # every row of a class appears as evenly as the epoch size allows
            seen = np.bincount(drawn[labels[drawn] == c], minlength=len(labels))[labels == c]
            assert seen.max() - seen.min() <= 1
        epochs.append(drawn)
    assert not np.array_equal(epochs[0], epochs[1])
    sampler.set_epoch(1)
    assert np.array_equal(np.array(list(sampler)), epochs[1])  # order depends only on (seed, epoch)


def test_plain_strategies_shuffle_normally():
    labels = np.array([0] * 8 + [1] * 2)
    sampler, weights, counts = make_train_sampler(labels, "none", seed=0)
    assert sampler is None and weights is None and counts == {0: 8, 1: 2}
    sampler, weights, counts = make_train_sampler(labels, "class_weight", seed=0)
    assert sampler is None and weights.tolist() == pytest.approx([10 / 16, 10 / 4])
    with pytest.raises(GenomedlError, match="imbalance"):
        make_train_sampler(labels, "smote", seed=0)


def planted(n_major, n_minor, length, generator):
    """Random tokens; the minority carries MOTIF at a random offset. Returns (tokens [n, L], labels [n])."""
    tokens = torch.randint(0, 4, (n_major + n_minor, length), generator=generator)
    offsets = torch.randint(0, length - len(MOTIF), (n_minor,), generator=generator)
    for row, offset in zip(range(n_major, n_major + n_minor), offsets.tolist()):
        tokens[row, offset : offset + len(MOTIF)] = MOTIF
    return tokens, torch.tensor([0] * n_major + [1] * n_minor)


def minority_recall(strategy: str, seed: int = 0) -> float:
    """Train a one-filter motif scanner on a 1:50 set with ``strategy``; minority recall on balanced held-out data."""
    generator = torch.Generator().manual_seed(seed)
    tokens, labels = planted(2000, 40, 40, generator)
    sampler, weights, _ = make_train_sampler(labels.numpy(), strategy, seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(tokens, labels),
        batch_size=64,
        sampler=sampler,
        shuffle=sampler is None,
        generator=generator,
    )
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, 16, len(MOTIF)), torch.nn.AdaptiveMaxPool1d(1), torch.nn.Flatten(), torch.nn.Linear(16, 2)
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(4):
        if sampler is not None:
            sampler.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(model(F.one_hot(x, 4).transpose(1, 2).float()), y, weight=weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    test_x, test_y = planted(200, 200, 40, generator)
    with torch.no_grad():
        predicted = model(F.one_hot(test_x, 4).transpose(1, 2).float()).argmax(1)
    return float((predicted[test_y == 1] == 1).float().mean())


def test_balanced_strategies_raise_minority_recall_on_a_1_to_50_set():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: more threads only contend
    try:
        baseline = minority_recall("none")
        for strategy in ("class_weight", "oversample", "undersample"):
            recall = minority_recall(strategy)
            assert recall > baseline + 0.5, (strategy, recall, baseline)
    finally:
        torch.set_num_threads(threads)


def test_training_uses_the_configured_strategy(tmp_path):
    """run_train draws balanced epochs and records the strategy and per-epoch class counts in run.json."""
    from genomedl.stages.train import run_train
    from helpers import files, write_synthetic_dataset

    data = write_synthetic_dataset(tmp_path / "data", n=300, length=60, positive_fraction=0.1)
    settings = {
        "arch": "cnn",
        "epochs": 1,
        "batch_size": 16,
        "filters": [8],
        "kernels": [7],
        "pools": [4],
        "hidden": 8,
        "dropout": 0.0,
        "imbalance": "undersample",
    }
    run = run_train(files(data), tmp_path / "m", "cnn", settings, seed=0, log=lambda *a: None)
    minority = min(run["train_counts"].values())
    assert run["imbalance"] == "undersample" and run["epoch_class_counts"] == {"neg": minority, "pos": minority}
    assert run["class_weights"] == [1.0, 1.0] and sum(run["samples_per_rank"]) == 2 * minority
