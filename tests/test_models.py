"""Model family: the token contract, input encodings, strand equivariance, config checks, sweeps."""

from __future__ import annotations

import inspect
from collections import Counter

import numpy as np
import pytest
import torch

from genomedl.config.sweep import LIST_VALUED, expand_sweeps, sweep_winners
from genomedl.errors import GenomedlError
from genomedl.models import available, build_model, model_class
from genomedl.models.layers import Concat, RCConv1d, Residual, kmer_frequencies, one_hot, reverse_complement_tokens
from helpers import train, write_synthetic

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = {
    "cnn": {"filters": [8, 8], "kernels": [5, 3], "pools": [2, 2], "hidden": [8], "rc_equivariant": True},
    "dnn": {"hidden": [16, 8, 8]},
    "rnn": {"hidden_size": 8, "layers": 2, "bidirectional": False, "pooling": "last"},
    "lstm": {"hidden_size": 8, "pooling": "bins", "bins": 4},
    "gru": {"hidden_size": 8, "pooling": "max"},
    "danq": {"filters": 8, "kernel": 7, "pool": 4, "lstm_hidden": 8, "hidden": [8]},
}


def random_tokens(n: int, length: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 5, size=(n, length), dtype=np.uint8))


def test_the_family_is_registered():
    assert set(SMALL) <= set(available())


@pytest.mark.parametrize("arch", sorted(SMALL))
def test_uint8_tokens_in_logits_out_and_every_parameter_learns(arch):
    model = build_model(arch, length=50, n_classes=3, **SMALL[arch])
    logits = model(random_tokens(6, 50))
    assert logits.shape == (6, 3) and logits.dtype == torch.float32 and torch.isfinite(logits).all()
    logits.sum().backward()
    silent = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent


def test_kmer_features_dnn_counts_kmers_and_skips_those_with_n():
    text = "ACGTNACGGA"
    tokens = torch.tensor([["ACGTN".index(c) for c in text]], dtype=torch.uint8)
    freq = kmer_frequencies(tokens, 2)[0]
    pairs = [text[i : i + 2] for i in range(len(text) - 1) if "N" not in text[i : i + 2]]
    expected = torch.zeros(16)
    for kmer, count in Counter(pairs).items():
        expected[int("".join(str("ACGT".index(c)) for c in kmer), 4)] = count / len(pairs)
    torch.testing.assert_close(freq, expected)
    model = build_model("dnn", length=10, n_classes=2, features="kmer", k=[1, 2], hidden=[4])
    assert model.net[0].in_features == 4 + 16 and model.eval()(tokens).shape == (1, 2)


def test_rc_equivariant_first_layer_and_strand_invariant_cnn():
    x = one_hot(random_tokens(4, 41))
    rc = one_hot(reverse_complement_tokens(random_tokens(4, 41)))
    conv = RCConv1d(4, 6, 9, padding=4)
    torch.testing.assert_close(conv(rc), conv(x).flip(-1))
    model = build_model(
        "cnn",
        length=41,
        n_classes=2,
        filters=[6],
        kernels=[9],
        pools=[1],
        rc_equivariant=True,
        head="global",
        hidden=[4],
    ).eval()
    tokens = random_tokens(4, 41)
    torch.testing.assert_close(model(reverse_complement_tokens(tokens)), model(tokens))
    plain = build_model(
        "cnn", length=41, n_classes=2, filters=[6], kernels=[9], pools=[1], head="global", hidden=[4]
    ).eval()
    assert not torch.allclose(plain(reverse_complement_tokens(tokens)), plain(tokens))


def test_cnn_block_options_change_the_feature_map():
    base = dict(length=100, n_classes=2, filters=[4, 4], kernels=[5, 3], pools=[2, 2], hidden=[4], head="flatten")
    same = build_model("cnn", **base)
    strided = build_model("cnn", **base, strides=[2, 1], padding="valid", dilations=[1, 2], pool_type="avg")
    assert same.head[1][0].in_features == 4 * 25
    # stride 2: (100 - 5) // 2 + 1 = 48, pool -> 24; dilation 2, valid: 24 - 2 * 2 = 20, pool -> 10
    assert strided.head[1][0].in_features == 4 * 10
    assert any(isinstance(m, torch.nn.AvgPool1d) for m in strided.modules())


def test_cnn_residual_blocks_and_mixed_head():
    model = build_model(
        "cnn",
        length=40,
        n_classes=2,
        filters=[6, 6, 8],
        kernels=[5, 3, 3],
        pools=[1, 2, 1],
        dilations=[1, 2, 1],
        residual=True,
        head="mixed",
        hidden=[4],
    ).eval()
    blocks = [m for m in model.features if isinstance(m, Residual)]
    assert len(blocks) == 1  # 4 -> 6 and 6 -> 8 filters change the shape: plain blocks
    conv = blocks[0].body[0]
    assert conv.dilation == (2,)
    x = torch.randn(3, 6, 40)
    with torch.no_grad():
        conv.weight.zero_(), conv.bias.zero_()
        torch.testing.assert_close(blocks[0](x), x)  # a silent body leaves the input through unchanged
    features = model.features(one_hot(random_tokens(3, 40)))  # [3, 8, 20]
    pooled = model.head[0](features)
    assert model.head[1][0].in_features == 8 * (20 + 2) == pooled.shape[1]
    torch.testing.assert_close(pooled[:, -16:], torch.cat([features.amax(-1), features.mean(-1)], 1))


def test_bad_model_settings_name_the_key():
    with pytest.raises(GenomedlError, match="kernels has 2 entries for 3 blocks"):
        build_model("cnn", length=100, n_classes=2, filters=[4, 4, 4], kernels=[5, 3], pools=2)
    with pytest.raises(GenomedlError, match="do not fit a 20 bp window"):
        build_model("cnn", length=20, n_classes=2, filters=[4, 4], kernels=[5, 5], pools=[8, 8], padding="valid")
    with pytest.raises(GenomedlError, match="unexpected keyword argument 'hidden_sise'"):
        build_model("lstm", length=20, n_classes=2, hidden_sise=4)
    with pytest.raises(GenomedlError, match="choose one of .*cnn, danq, dnn, gru, lstm, rnn"):
        build_model("perceptron", length=20, n_classes=2)


def test_list_valued_keys_cover_every_list_default():
    for arch in available():
        for name, param in inspect.signature(model_class(arch)).parameters.items():
            if isinstance(param.default, (list, tuple)):
                assert name in LIST_VALUED, f"{arch}.{name} takes a list: add it to LIST_VALUED"


def test_sweep_expansion_and_winner():
    models = {
        "cnn": {"arch": "cnn", "lr": [0.001, 0.0003], "filters": [[8, 8], [16]], "kernels": [5, 3]},
        "dnn": {"arch": "dnn", "hidden": [16, 8]},
    }
    expanded = expand_sweeps(models)
    assert sorted(expanded) == [
        "cnn__filters-16__lr-0.0003",
        "cnn__filters-16__lr-0.001",
        "cnn__filters-8x8__lr-0.0003",
        "cnn__filters-8x8__lr-0.001",
        "dnn",
    ]
    one = expanded["cnn__filters-8x8__lr-0.0003"]
    assert one["lr"] == 0.0003 and one["filters"] == [8, 8] and one["kernels"] == [5, 3]
    assert one["sweep"] == {"group": "cnn", "params": {"filters": [8, 8], "lr": 0.0003}}
    assert expanded["dnn"] == models["dnn"]
    runs = {
        "a": {"sweep": {"group": "g"}, "best_score": 0.4, "monitor_mode": "min"},
        "b": {"sweep": {"group": "g"}, "best_score": 0.3, "monitor_mode": "min"},
        "c": {"sweep": {"group": "g"}, "best_score": float("nan"), "monitor_mode": "min"},
        "d": {"sweep": {"group": "h"}, "best_score": 0.7, "monitor_mode": "max"},
        "e": {"sweep": {"group": "h"}, "best_score": 0.9, "monitor_mode": "max"},
        "f": {"sweep": None},
    }
    assert sweep_winners(runs) == {"g": "b", "h": "e"}
    with pytest.raises(GenomedlError, match="models.cnn.lr: an empty list"):
        expand_sweeps({"cnn": {"arch": "cnn", "lr": []}})


def test_every_architecture_trains_through_the_engine(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=60, length=30)
    small = {**SMALL, "danq": {**SMALL["danq"], "kernel": 7, "pool": 3}}
    for arch, hyper in sorted(small.items()):
        run = train(paths, tmp_path / arch, {"arch": arch, **hyper, "epochs": 1, "batch_size": 16})
        assert run["arch"] == arch and run["epochs_run"] == 1 and np.isfinite(run["best_score"])


def test_every_architecture_declares_exactly_its_constructor_keywords():
    """genomedl.config.hyperparameters (torch-free, read by config.resolve) lists each constructor's keywords."""
    from genomedl.config.hyperparameters import HYPERPARAMETERS

    assert sorted(HYPERPARAMETERS) == available()
    for arch, keys in HYPERPARAMETERS.items():
        taken = set(inspect.signature(model_class(arch)).parameters) - {"length", "n_classes"}
        assert set(keys) == taken, arch


def test_checkpoint_keeps_every_constructor_argument(tmp_path, monkeypatch):
    """A checkpoint stores each hyperparameter, given or default, so a later change of a default (issue 'Defaults
    that win' changes them) still rebuilds the saved model. Untrained CNN."""
    import inspect

    from genomedl.inference import load_model
    from genomedl.models.cnn import CNN
    from genomedl.training.checkpoints import save_model
    from genomedl.training.engine import SequenceClassifier

    module = SequenceClassifier(
        "cnn", 60, 2, {"filters": [8, 8], "kernels": [7, 3], "pools": [4, 2]}, [1.0, 1.0], {"rc_augment": False}
    )
    save_model(tmp_path / "model.ckpt", module, ["a", "b"])
    payload = torch.load(tmp_path / "model.ckpt", map_location="cpu", weights_only=True)
    assert set(payload["hyper"]) == set(inspect.signature(CNN).parameters) - {"length", "n_classes"}
    assert payload["hyper"]["filters"] == [8, 8] and payload["hyper"]["head"] == "mixed"
    other = {"mixed": "flatten"}  # another default head: other layer shapes
    defaults = tuple(other.get(d, d) if isinstance(d, str) else d for d in CNN.__init__.__defaults__)
    monkeypatch.setattr(CNN.__init__, "__defaults__", defaults)
    assert CNN(60, 2, filters=[8, 8], kernels=[7, 3], pools=[4, 2]).head[0].__class__ is not Concat
    model, _ = load_model(tmp_path / "model.ckpt")  # the saved head wins over the changed default
    assert isinstance(model.head[0], Concat)
