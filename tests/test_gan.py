"""GAN: gradient penalty, quality metrics, FASTA output, and a short end-to-end run on one class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pysam
import pytest
import torch

from genomedl.generation.metrics import gc_content, kmer_distances, quality, shuffled
from genomedl.inference import load_model, predict_proba
from genomedl.models.gan import Critic, Generator, gradient_penalty
from genomedl.stages.gan import run_gan, write_fasta
from genomedl.stages.train import run_train
from helpers import files

RNG = np.random.default_rng(3)


def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 10, 1))
    real, fake = torch.rand(8, 4, 10), torch.rand(8, 4, 10)
    expected = (critic[1].weight.norm() - 1) ** 2
    torch.testing.assert_close(gradient_penalty(lambda x: critic(x)[:, 0], real, fake), expected)


def test_generator_emits_base_probabilities_and_critic_scores():
    generator, critic = Generator(length=30, latent=8, channels=8), Critic(length=30, channels=8)
    probs = generator(torch.randn(5, 8))
    assert probs.shape == (5, 4, 30)
    torch.testing.assert_close(probs.sum(1), torch.ones(5, 30))
    assert critic(probs).shape == (5,)


def test_kmer_distance_is_zero_for_identical_and_one_for_disjoint_sets():
    tokens = RNG.integers(0, 4, size=(20, 50), dtype=np.uint8)
    assert all(v == pytest.approx(0, abs=1e-12) for v in kmer_distances(tokens, tokens).values())
    far = kmer_distances(np.zeros((3, 20), np.uint8), np.ones((3, 20), np.uint8))
    assert list(far) == [f"k{k}" for k in range(1, 7)] and all(v == pytest.approx(1) for v in far.values())


def test_shuffling_keeps_composition_and_destroys_order():
    periodic = np.tile(np.array([0, 1, 2, 3], np.uint8), (50, 25))
    mixed = shuffled(periodic, 0)
    np.testing.assert_array_equal(np.sort(mixed, 1), np.sort(periodic, 1))
    np.testing.assert_array_equal(gc_content(mixed), gc_content(periodic))
    distances = kmer_distances(mixed, periodic)
    assert distances["k1"] == pytest.approx(0, abs=1e-12) and distances["k2"] > 0.3


def test_gc_content_ignores_n():
    tokens = np.array([[1, 2, 0, 3], [1, 4, 4, 0]], np.uint8)
    np.testing.assert_allclose(gc_content(tokens), [0.5, 0.5])


def test_quality_report_per_set():
    reference = RNG.integers(0, 4, size=(30, 40), dtype=np.uint8)
    result = quality(
        {"generated": np.full((10, 40), 2, np.uint8)}, reference, class_probability=lambda x: (x == 2).mean(1)
    )
    assert set(result) == {"generated", "heldout_real"}
    assert result["generated"]["gc_mean"] == 1.0 and result["generated"]["classifier_score"] == 1.0
    assert result["heldout_real"]["gc_wasserstein"] == 0.0 and sum(result["generated"]["gc_histogram"]) == 10


def test_fasta_round_trip(tmp_path):
    tokens = RNG.integers(0, 5, size=(7, 33), dtype=np.uint8)
    write_fasta(tokens, tmp_path / "g.fa", "gan_pos")
    with pysam.FastxFile(str(tmp_path / "g.fa")) as handle:
        records = [(r.name, r.sequence) for r in handle]
    assert [name for name, _ in records] == [f"gan_pos_{i}" for i in range(7)]
    assert [seq for _, seq in records] == ["".join("ACGTN"[t] for t in row) for row in tokens]


def test_gan_learns_the_composition_of_its_class(synthetic_dataset, tmp_path):
    """Class 'pos' is made A-rich; after training, generated windows are closer to it than an untrained generator's.
    Augmentation retrains the classifier and reports the original's recall of 'pos' on the test split."""
    tokens = np.load(synthetic_dataset["tokens"])
    positive = pd.read_csv(synthetic_dataset["labels"], sep="\t")["label"].to_numpy() == "pos"
    tokens[positive] = np.where(RNG.random(tokens[positive].shape) < 0.7, 0, tokens[positive])
    np.save(synthetic_dataset["tokens"], tokens)
    cnn = {
        "arch": "cnn",
        "filters": [8],
        "kernels": [5],
        "pools": [4],
        "hidden": [8],
        "epochs": 1,
        "batch_size": 64,
        "gradient_clip": 0,
    }
    run_train(files(synthetic_dataset), tmp_path / "cnn", "cnn", cnn, 0, log=lambda *_: None)
    settings = {
        "epochs": 12,
        "batch_size": 32,
        "latent": 16,
        "channels": 16,
        "lr": 0.001,
        "n_critic": 2,
        "n_generate": 100,
        "augment": True,
    }
    result = run_gan(
        files(synthetic_dataset),
        "pos",
        tmp_path / "gan",
        settings,
        0,
        classifier=tmp_path / "cnn" / "model.ckpt",
        log=lambda *_: None,
    )
    sets = result["sets"]
    assert set(sets) == {"generated", "shuffled_real", "train_real", "heldout_real"}
    assert all("classifier_score" in s for s in sets.values())
    with pysam.FastxFile(str(tmp_path / "gan" / "generated.fa")) as handle:
        assert sum(1 for _ in handle) == 100
    augmentation = result["augmentation"]
    assert augmentation["added_windows"] == 100 and augmentation["classifier"] == "cnn"
    test_pos = (pd.read_csv(synthetic_dataset["split"], sep="\t")["split"].to_numpy() == "test") & positive
    original = predict_proba(load_model(tmp_path / "cnn" / "model.ckpt")[0], tokens[test_pos]).argmax(1)
    assert augmentation["original"]["recall"] == pytest.approx((original == 1).mean())
    assert 0 <= augmentation["augmented"]["recall"] <= 1
    torch.manual_seed(0)  # the untrained generator does not depend on what ran before
    untrained = Generator(100, 16, 16).eval()
    with torch.no_grad():
        baseline = untrained(torch.randn(100, 16)).argmax(1).to(torch.uint8).numpy()
    heldout_k1 = kmer_distances(baseline, tokens[positive])["k1"]
    assert sets["generated"]["kmer_jsd"]["k1"] < heldout_k1
    from genomedl.reporting.lm_section import render_section

    html = str(render_section([tmp_path / "gan" / "quality.json"], {}, {}))
    assert "GAN: generated pos windows" in html and "Augmentation: 100 generated windows" in html
    assert html.count("data:image/png;base64,") == 2 and "shuffled real" in html
