"""Interpretation: attributions through the one-hot path, filter PWMs, and the planted-motif ground truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from genomedl.attribution.attributions import attribute, deeplift_unsupported, one_hot_inputs
from genomedl.attribution.jaspar import load_jaspar
from genomedl.attribution.motifs import filter_pwms
from genomedl.models import build_model
from genomedl.stages.interpret import run_interpret, sample_rows
from genomedl.stages.train import run_train
from genomedl.tables import read_tsv, write_tsv
from helpers import files, write_synthetic_dataset

PLANTED = "MA0139"  # CTCF


def test_models_accept_one_hot_and_attributions_are_exact_for_a_linear_model():
    torch.manual_seed(0)
    model = build_model(
        "cnn", length=30, n_classes=2, filters=[4], kernels=[5], pools=[1], hidden=[], batch_norm=False, dropout=0.0
    ).eval()
    tokens = np.random.default_rng(0).integers(0, 5, (6, 30)).astype(np.uint8)
    x = one_hot_inputs(tokens)
    assert torch.allclose(model(torch.from_numpy(tokens)), model(x))
    assert "AdaptiveMaxPool1d" in deeplift_unsupported(
        build_model("cnn", length=30, n_classes=2, filters=[4], kernels=[5], pools=[1], head="global")
    )
    # integrated gradients from the all-N reference sums to the logit change (completeness)
    ig = attribute(model, x, np.array([1] * 6), "integrated_gradients", steps=64)
    with torch.no_grad():
        change = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    assert np.allclose(ig.sum((1, 2)), change.numpy(), atol=1e-2)


def test_deeplift_shap_is_exact_on_the_default_cnn():
    """The default cnn (residual blocks, mixed head: Residual and Concat modules) gets DeepLIFT/SHAP, and its
    attributions sum to the logit change from the shuffled references (a global max head, whose
    AdaptiveMaxPool1d has no rule, breaks that sum). It also works with deterministic algorithms on (a caller's
    setting; tangermeme's max-pool rule unpools, which torch lists as nondeterministic)."""
    torch.manual_seed(0)
    model = build_model("cnn", length=60, n_classes=3)
    tokens = np.random.default_rng(0).integers(0, 4, (64, 60)).astype(np.uint8)
    model.train()(torch.from_numpy(tokens))  # batch-norm statistics away from their initial values
    model.eval()
    assert deeplift_unsupported(model) == []
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Convergence deltas")  # tangermeme only warns: make it fail
            values = attribute(model, one_hot_inputs(tokens[:4]), np.array([1, 1, 2, 2]), "deeplift_shap")
        assert torch.are_deterministic_algorithms_enabled()  # the setting is restored
    finally:
        torch.use_deterministic_algorithms(before)
    assert values.shape == (4, 4, 60) and np.abs(values).sum() > 0


def test_filter_pwm_recovers_the_filter_motif():
    conv = torch.nn.Conv1d(4, 1, 4)
    motif = "GATC"
    with torch.no_grad():
        conv.weight.copy_(one_hot_inputs(np.array([["ACGT".index(c) for c in motif]], dtype=np.uint8)) * 2 - 1)
        conv.bias.zero_()
    tokens = np.random.default_rng(1).integers(0, 4, (50, 40)).astype(np.uint8)
    tokens[::5, 10:14] = [2, 0, 3, 1]
    ppm, sites = filter_pwms(conv, one_hot_inputs(tokens).numpy(), fraction=0.99)
    assert "".join("ACGT"[i] for i in ppm[0].argmax(0)) == motif and sites[0] >= 10


def test_sample_is_class_balanced_and_seeded():
    labels = np.array([0] * 90 + [1] * 10)
    rows = sample_rows(labels, 30, seed=3)
    assert len(rows) == 30 and (labels[rows] == 1).sum() == 10
    assert (rows == sample_rows(labels, 30, seed=3)).all() and not (rows == sample_rows(labels, 30, seed=4)).all()


def plant(folder, ppm: np.ndarray, n=600, length=80, seed=0):
    """Random background; every second window carries a sample of ``ppm`` [4, W] on a random strand."""
    rng = np.random.default_rng(seed)
    paths = write_synthetic_dataset(folder, n=n, length=length)
    tokens = rng.integers(0, 4, (n, length), dtype=np.uint8)
    positive = np.arange(n) % 2 == 1
    width = ppm.shape[1]
    draws = (rng.random((n, width))[:, None, :] > np.cumsum(ppm, 0)[None]).sum(1).clip(0, 3).astype(np.uint8)
    flip = rng.random(n) < 0.5
    draws[flip] = 3 - draws[flip, ::-1]
    columns = rng.integers(5, length - width - 5, n)[:, None] + np.arange(width)
    rows = np.flatnonzero(positive)
    tokens[rows[:, None], columns[rows]] = draws[rows]
    np.save(paths["tokens"], tokens)
    labels = read_tsv(paths["labels"])
    labels["label"] = np.where(positive, "pos", "neg")
    write_tsv(labels, paths["labels"])
    return paths


def test_planted_jaspar_motif_is_the_top_motif(tmp_path):
    ids, names, ppms = load_jaspar("JASPAR2024", "CORE", ("vertebrates",))
    index = next(k for k, i in enumerate(ids) if i.startswith(PLANTED))
    planted, name = ppms[index], names[index]
    d = plant(tmp_path / "data", planted, n=1200)
    run_train(
        files(d),
        tmp_path / "model",
        "cnn",
        {
            "arch": "cnn",
            "epochs": 6,
            "filters": [16],
            "kernels": [21],
            "pools": [1],
            "head": "global",
            "hidden": 16,
            "lr": 0.01,
            "batch_size": 32,
            "patience": 3,
            "gradient_clip": 0,
            "rc_augment": True,  # the motif sits on either strand: a strand-symmetric label
        },
        0,
        log=lambda *a: None,
    )
    summary = run_interpret(
        tmp_path / "model",
        files(d),
        tmp_path / "out",
        {"sequences": 60, "methods": ["integrated_gradients"], "filters": 4},
        seed=0,
        log=lambda *a: None,
    )
    top = next(m for m in summary["motifs"] if m["kind"] == "attribution" and m["class"] == "pos")
    # JASPAR holds extended CTCF matrices too: the best match must be the planted factor, and the
    # planted entry itself one of the three best matches, significant
    assert top["matches"][0]["name"] == name
    assert any(m["id"] == ids[index] and m["q"] < 0.05 for m in top["matches"])
    table = pd.read_csv(tmp_path / "out" / "motifs.tsv", sep="\t")
    assert table.loc[table["motif"] == top["name"], "match1_id"].item() == top["matches"][0]["id"]
    assert "MOTIF " + top["name"] in (tmp_path / "out" / "motifs.meme").read_text()


def test_seqlet_kernels_are_compiled_once_per_machine():
    """A second process finds tangermeme's seqlet kernels in numba's disk cache instead of compiling them again
    (the machine's cache: the first process may find them there already)."""
    import subprocess
    import sys

    script = (
        "import numpy as np, numba; from genomedl.attribution.motifs import call_seqlets; "
        "x = np.zeros((4, 60), np.float32); x[:, 20:26] = 1; call_seqlets(x, 0.01, 4, 20, 10); "
        "from tangermeme import seqlet; "
        "print(sum(len(k.stats.cache_hits) for k in vars(seqlet).values() if hasattr(k, 'stats')))"
    )
    hits = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True) for _ in "12"]
    assert int(hits[1].stdout) > 0, hits[1].stderr[-2000:]
