"""The GPU training path, exercised on CPU: fp16 loss scaling with clipping, bf16 detection, gradient norms,
one-strand validation, fixed batch shapes and the masked-only MLM head."""

from __future__ import annotations

import types

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.plugins.precision import MixedPrecision

from genomedl.data.datasets import SplitData
from genomedl.data.loaders import PAD_LABEL, loader
from genomedl.training import engine, placement
from genomedl.training.engine import SequenceClassifier, make_optimizer

pytestmark = pytest.mark.usefixtures("one_thread")
CNN = {"filters": [8], "kernels": [5], "pools": [4], "hidden": [8], "dropout": 0.0}
LENGTH = 40


def module(**options) -> SequenceClassifier:
    torch.manual_seed(0)
    return SequenceClassifier("cnn", LENGTH, 2, CNN, [1.0, 1.0], {"rc_augment": False, **options})


def split(n: int, seed: int = 0) -> SplitData:
    rng = np.random.default_rng(seed)
    return SplitData(rng.integers(0, 4, (n, LENGTH), dtype=np.uint8), rng.integers(0, 2, n).astype(np.int64), [])


def cpu_trainer(**options) -> L.Trainer:
    quiet = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False}
    return L.Trainer(accelerator="cpu", devices=1, enable_model_summary=False, **quiet, **options)


def fp16_plugin() -> MixedPrecision:
    """Lightning's fp16 loss-scaling plugin ("16-mixed"), on the CPU: the code path a GPU takes with precision 16."""
    return MixedPrecision("16-mixed", "cpu", torch.amp.GradScaler("cpu"))


def test_fp16_gets_unfused_adamw_and_bf16_fused():
    hp = types.SimpleNamespace(optimizer="adamw", lr=1e-3, weight_decay=0.01, momentum=0.9)
    params = [torch.nn.Parameter(torch.zeros(3))]
    assert not make_optimizer(params, hp, on_gpu=True, precision="16-mixed").defaults["fused"]
    assert make_optimizer(params, hp, on_gpu=True, precision="bf16-mixed").defaults["fused"]
    assert not make_optimizer(params, hp, on_gpu=False, precision="32-true").defaults["fused"]


def test_fused_adamw_with_lightning_clipping_under_fp16_is_the_crash_this_avoids():
    class Fused(SequenceClassifier):
        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), fused=True)

    torch.manual_seed(0)
    broken = Fused("cnn", LENGTH, 2, CNN, [1.0, 1.0], {"gradient_clip": 0.0, "rc_augment": False})
    trainer = cpu_trainer(max_epochs=1, plugins=[fp16_plugin()], gradient_clip_val=1.0, num_sanity_val_steps=0)
    with pytest.raises(RuntimeError, match="does not allow for gradient clipping"):
        trainer.fit(broken, loader(split(64), 16, shuffle_seed=0), loader(split(32, 1), 16))


def test_fp16_with_clipping_on_the_gpu_optimizer_trains_on_unscaled_gradients(monkeypatch):
    monkeypatch.setattr(engine, "on_cuda", lambda module: True)  # pick the optimizer a GPU run would get
    norms = {}
    for name, plugins in (("fp32", []), ("fp16", [fp16_plugin()])):
        net = module(gradient_clip=1.0, rc_augment=False)
        trainer = cpu_trainer(max_epochs=1, plugins=plugins, num_sanity_val_steps=0)
        trainer.fit(net, loader(split(64), 16, shuffle_seed=0), loader(split(32, 1), 16))
        assert trainer.precision == ("16-mixed" if plugins else "32-true")
        assert trainer.optimizers[0].defaults["fused"] == (name == "fp32")  # fused AdamW except under fp16
        norms[name] = net.epoch_diagnostics()["grad_norm"]
    # a scaled gradient would be 2**16 times larger; fp16 autocast moves the norm by well under 5 %
    assert norms["fp16"] == pytest.approx(norms["fp32"], rel=0.05)


def fake_bf16_query(emulated: bool):
    def is_bf16_supported(including_emulation: bool = True) -> bool:
        return including_emulation if emulated else True

    return is_bf16_supported


@pytest.mark.parametrize("emulated, expected", [(True, "16-mixed"), (False, "bf16-mixed")])
def test_auto_precision_excludes_emulated_bf16(monkeypatch, emulated, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", fake_bf16_query(emulated))
    assert placement.precision_for("auto", True, placement.native_bf16()) == expected


def test_gradient_norms_come_from_one_foreach_norm_and_clip_like_clip_grad_norm():
    net, twin = module(gradient_clip=0.5), module(gradient_clip=0.5)
    tokens, labels = torch.from_numpy(split(8).tokens), torch.from_numpy(split(8).labels)
    for m in (net, twin):
        torch.nn.functional.cross_entropy(m(tokens), labels).backward()
    expected = torch.nn.utils.clip_grad_norm_(twin.model.parameters(), 0.5)
    net.on_before_optimizer_step(None)
    assert net.epoch_diagnostics()["grad_norm"] == pytest.approx(float(expected), rel=1e-5)
    for p, q in zip(net.model.parameters(), twin.model.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_validation_scores_one_strand_unless_asked_for_both():
    calls = []
    for both in (False, True):
        net = module(val_both_strands=both)
        net.model.register_forward_hook(lambda *_: calls.append(both))
        cpu_trainer().validate(net, loader(split(40), 16), verbose=False)
    assert calls.count(False) == 3 and calls.count(True) == 6  # 3 batches; twice with both strands


def test_batches_have_one_shape_and_padding_leaves_validation_metrics_unchanged():
    train_batches = [t.shape for t, _ in loader(split(70), 16, shuffle_seed=0, fixed_shape=True)]
    assert train_batches == [(16, LENGTH)] * 4  # the partial last batch (6 rows) is dropped
    padded = list(loader(split(70), 32, fixed_shape=True))
    assert [t.shape for t, _ in padded] == [(32, LENGTH)] * 3 and int((padded[-1][1] == PAD_LABEL).sum()) == 26
    metrics = {}
    for fixed in (False, True):
        trainer = cpu_trainer()
        trainer.validate(module(), loader(split(70), 32, fixed_shape=fixed), verbose=False)
        metrics[fixed] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    assert metrics[True].keys() == {"val_loss", "val_auroc", "val_acc"}
    assert metrics[True] == pytest.approx(metrics[False], rel=1e-6)


def test_mlm_loss_on_masked_positions_equals_the_full_head_loss():
    from transformers import BertForMaskedLM

    from genomedl.config import stage_settings
    from genomedl.encoding.masking import IGNORE, whole_kmer_mask
    from genomedl.encoding.tokenizer import kmer_ids, vocab
    from genomedl.stages.pretrain import bert_config, mlm_step

    settings = stage_settings("pretrain", {"k": 3, "hidden": 32, "layers": 1, "heads": 2, "intermediate": 64})
    torch.manual_seed(0)
    model = BertForMaskedLM(bert_config(settings, LENGTH)).eval()
    ids = kmer_ids(torch.from_numpy(split(6).tokens), 3, True)
    torch.manual_seed(1)
    loss, correct, count = mlm_step(model, ids, 3, 0.15, len(vocab(3)))
    torch.manual_seed(1)
    inputs, labels, masked = whole_kmer_mask(ids, 3, 0.15, len(vocab(3)))
    full = model(input_ids=inputs, labels=labels)
    torch.testing.assert_close(loss, full.loss)
    assert int(correct) == int(((full.logits.argmax(-1) == labels) & (labels != IGNORE)).sum())
    assert int(count) == int(masked.sum()) > 0


def test_compiled_model_compiles_nothing_after_the_first_epoch(tmp_path, monkeypatch):
    import functools

    from torch._dynamo.utils import counters

    from helpers import train, write_synthetic

    # dynamo's "eager" backend: the same graph capture, guards and recompilations, without code generation
    monkeypatch.setattr(torch.nn.Module, "compile", functools.partialmethod(torch.nn.Module.compile, backend="eager"))
    torch._dynamo.reset()
    counters.clear()
    graphs = []
    log = lambda line: graphs.append(counters["stats"]["unique_graphs"]) if line.startswith("epoch ") else None  # noqa: E731
    paths = write_synthetic(tmp_path / "data", n=230, length=LENGTH)  # 138 train rows, 46 val: partial last batches
    settings = {"arch": "cnn", **CNN, "epochs": 3, "patience": 3, "batch_size": 32, "compile": True}
    run = train(paths, tmp_path / "out", settings, log=log)
    assert run["precision"] == "32-true"  # the precision Lightning ran with (trainer.precision)
    # one graph for training, one for validation (eval mode), captured in epoch 1; none for a partial last batch
    # (without fixed shapes: 3 graphs, the third for a dynamic batch dimension)
    assert graphs == [2, 2, 2]
