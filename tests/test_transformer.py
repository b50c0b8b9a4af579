"""Transformer classifier: fused vs explicit attention, positions, rotary property, learning a motif."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genomedl.inference import load_model, predict_proba
from genomedl.models import build_model
from genomedl.models.transformer import rotary_tables, rotate
from genomedl.stages.train import run_train
from helpers import files


@pytest.mark.parametrize("positions", ["learned", "sinusoidal", "rotary"])
@pytest.mark.parametrize("k,overlapping", [(1, True), (3, True), (4, False)])
def test_explicit_attention_matches_fused_kernel(positions, k, overlapping):
    torch.manual_seed(0)
    model = build_model(
        "transformer",
        length=30,
        n_classes=3,
        k=k,
        overlapping=overlapping,
        width=16,
        depth=2,
        heads=2,
        positions=positions,
    ).eval()
    tokens = torch.randint(0, 5, (5, 30), dtype=torch.uint8)
    fused = model(tokens)
    logits, weights = model(tokens, return_attention=True)
    n_ids = 32 if k == 1 else (30 - k + 1 if overlapping else 30 // k) + 2
    assert weights.shape == (5, 2, 2, n_ids, n_ids)
    torch.testing.assert_close(weights.sum(-1), torch.ones(5, 2, 2, n_ids))
    torch.testing.assert_close(logits, fused, atol=1e-5, rtol=1e-5)
    assert fused.shape == (5, 3)


def test_one_hot_input_matches_tokens_and_has_input_gradients():
    from genomedl.models.layers import one_hot

    torch.manual_seed(0)
    model = build_model("transformer", length=20, n_classes=2, width=16, depth=1, heads=2).eval()
    tokens = torch.randint(0, 5, (3, 20), dtype=torch.uint8)
    x = one_hot(tokens).requires_grad_(True)
    logits = model(x)
    torch.testing.assert_close(logits, model(tokens))
    logits[:, 1].sum().backward()
    assert x.grad.abs().sum() > 0
    assert model.attention_maps(tokens).shape == (3, 2, 22, 22)
    kmer_model = build_model("transformer", length=20, n_classes=2, k=3, width=16, depth=1, heads=2)
    with pytest.raises(TypeError, match="token ids"):
        kmer_model(x)


def test_positions_make_the_model_order_aware():
    """Reversing a window changes the logits only because positions are encoded."""
    torch.manual_seed(0)
    tokens = torch.randint(0, 4, (4, 24), dtype=torch.uint8)
    for positions in ("learned", "rotary"):
        model = build_model(
            "transformer", length=24, n_classes=2, width=16, depth=1, heads=2, positions=positions
        ).eval()
        assert not torch.allclose(model(tokens), model(tokens.flip(1)), atol=1e-4)


def test_rotary_scores_depend_only_on_relative_offset():
    torch.manual_seed(0)
    cos, sin = rotary_tables(12, 8)
    q, k = torch.randn(8), torch.randn(8)
    rq = rotate(q.expand(1, 1, 12, 8), cos, sin)[0, 0]
    rk = rotate(k.expand(1, 1, 12, 8), cos, sin)[0, 0]
    scores = rq @ rk.T  # [i, j] = q at position i . k at position j
    for offset in (-3, 0, 5):
        diagonal = torch.diagonal(scores, offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(torch.diagonal(scores, 0)[0], torch.diagonal(scores, 4)[0])


def test_bad_hyperparameters_are_one_line_errors():
    from genomedl.errors import GenomedlError

    with pytest.raises(GenomedlError, match="positions must be one of"):
        build_model("transformer", length=30, n_classes=2, positions="alibi")
    with pytest.raises(GenomedlError, match="multiple of heads"):
        build_model("transformer", length=30, n_classes=2, width=30, heads=4)


def test_transformer_learns_a_positioned_motif_and_reloads(synthetic_dataset, tmp_path):
    paths = synthetic_dataset
    settings = {
        "arch": "transformer",
        "k": 3,
        "overlapping": False,
        "width": 32,
        "depth": 1,
        "heads": 2,
        "dropout": 0.0,
        "positions": "rotary",
        "epochs": 6,
        "batch_size": 32,
        "lr": 0.003,
        "patience": 10,
        "schedule": "none",  # a constant rate: 6 epochs are too few for the default warm-up and cosine decay
    }
    run = run_train(files(paths), tmp_path / "m", "tf", settings, 1, log=lambda *_: None)
    assert run["best_score"] < 0.5  # validation cross-entropy, chance is 0.69
    model, payload = load_model(tmp_path / "m" / "model.ckpt")
    tokens = np.load(paths["tokens"])[:50]
    probs = predict_proba(model, tokens)
    assert payload["arch"] == "transformer" and probs.shape == (50, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
