"""Training engine: learning on synthetic data, diagnostics, schedules, NaN and OOM handling, placement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genomedl.config import stage_settings
from genomedl.errors import GenomedlError
from genomedl.inference import load_model
from genomedl.provenance import config_hash
from genomedl.scoring import trained_strands
from genomedl.tables import read_tsv, write_json
from genomedl.training.batches import global_batch_size
from genomedl.training.checkpoints import resume_point
from genomedl.training.diagnostics import collapse, fit_verdict, flag_layers, prior_loss
from genomedl.training.placement import cluster_layout, precision_for
from genomedl.training.restarts import restarts_path
from helpers import files, train, write_synthetic

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL_CNN = {
    "arch": "cnn",
    "filters": [16],
    "kernels": [7],
    "pools": [2],
    "hidden": [16],
    "dropout": 0.0,
    "epochs": 6,
    "batch_size": 32,
    "lr": 0.01,
    "patience": 10,
}


def test_cnn_learns_a_positioned_motif_and_writes_diagnostics(tmp_path):
    paths = write_synthetic(tmp_path / "data")
    run = train(paths, tmp_path / "out", SMALL_CNN)
    history = read_tsv(tmp_path / "out" / "history.tsv")
    assert history["epoch"].tolist() == list(range(1, 7))
    assert history["val_auroc"].iloc[-1] > 0.95 and history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    layer_cols = [c for c in history if c.startswith("grad_norm/")]
    assert {"grad_norm/features.0", "grad_norm/features.1", "grad_norm/head.1.0", "grad_norm/head.1.4"} == set(
        layer_cols
    )  # conv, batch norm, dense, output
    # per step the global norm is the root of the summed squared layer norms, so its epoch mean lies
    # between the largest layer mean and the sum of the layer means
    layers = history[layer_cols]
    assert (history["grad_norm"] >= layers.max(axis=1) * 0.999).all()
    assert (history["grad_norm"] <= layers.sum(axis=1) * 1.001).all()
    assert (history["grad_norm_max"] >= history["grad_norm"]).all() and (history["grad_norm"] > 0).all()
    assert 0.5 < history["train_acc"].iloc[-1] <= 1.0
    assert run["fit_verdict"]["verdict"] in {"good_fit", "undertrained", "overfitting"}
    assert run["best_score"] == pytest.approx(history["val_loss"].min())
    model, payload = load_model(tmp_path / "out" / "model.ckpt")
    tokens = torch.from_numpy(np.load(paths["tokens"])[:8])
    assert model(tokens).shape == (8, 2) and payload["arch"] == "cnn"


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "plateau"])
def test_schedules_shape_the_learning_rate(tmp_path, schedule):
    paths = write_synthetic(tmp_path / "data", n=200)
    settings = {**SMALL_CNN, "schedule": schedule, "warmup_epochs": 2, "epochs": 6, "batch_size": 60}
    if schedule == "plateau":  # a negligible learning rate cannot improve val loss: the plateau must halve it
        settings.update(optimizer="sgd", momentum=0.0, lr=1e-6, patience=6, epochs=8, batch_norm=False)
    train(paths, tmp_path / "out", settings)
    lr = read_tsv(tmp_path / "out" / "history.tsv")["lr"].to_numpy()
    if schedule == "plateau":
        assert lr[-1] < lr[0] / 1.9
    else:  # rises during warm-up, then decays well below the peak
        peak = int(np.argmax(lr))
        assert 0 < peak < len(lr) - 1 and lr[-1] < 0.5 * lr[peak] and lr[0] < lr[peak]


def test_sgd_with_kaiming_init_and_clipping_trains(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=200)
    run = train(
        paths,
        tmp_path / "out",
        {**SMALL_CNN, "optimizer": "sgd", "init": "kaiming", "gradient_clip": 0.5, "epochs": 2, "monitor": "val_auroc"},
    )
    assert run["monitor_mode"] == "max" and run["settings"]["optimizer"] == "sgd"
    assert math.isfinite(run["best_score"])


def test_label_smoothing_bounds_the_training_loss_and_leaves_validation_loss_plain(tmp_path):
    """Synthetic planted motif (learnt to near-perfect fit). With smoothing e over C = 2 classes the target is
    (1 - e/2, e/2), so the training loss never falls below that target's entropy; without smoothing it does.
    Validation loss is plain cross-entropy, so it is computed from the saved model's probabilities as such."""
    paths = write_synthetic(tmp_path / "data", n=400)
    e = 0.3
    floor = -((1 - e / 2) * math.log(1 - e / 2) + (e / 2) * math.log(e / 2))
    settings = {**SMALL_CNN, "epochs": 8, "schedule": "none", "patience": 20}
    train(paths, tmp_path / "plain", {**settings, "label_smoothing": 0})  # the cnn's default is 0.1
    train(paths, tmp_path / "smoothed", {**settings, "label_smoothing": e})
    plain, smoothed = (read_tsv(tmp_path / name / "history.tsv") for name in ("plain", "smoothed"))
    assert plain["train_loss"].min() < floor - 0.05
    assert smoothed["train_loss"].min() > floor - 1e-3
    assert smoothed["val_auroc"].iloc[-1] > 0.95  # still learns the motif
    model, _ = load_model(tmp_path / "smoothed" / "model.ckpt")
    tokens, split = np.load(paths["tokens"]), read_tsv(paths["split"])
    labels = (read_tsv(paths["labels"])["label"] == "pos").to_numpy()
    val = (split["split"] == "val").to_numpy()
    with torch.no_grad():
        logp = model(torch.from_numpy(tokens[val])).float().log_softmax(-1).numpy()
    plain_ce = -logp[np.arange(val.sum()), labels[val].astype(int)].mean()
    assert plain_ce == pytest.approx(smoothed["val_loss"].min(), rel=1e-3)  # the kept checkpoint: best val_loss


def test_a_batch_larger_than_the_training_set_is_announced_once(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=100)  # 60 training windows
    lines = []
    train(paths, tmp_path / "out", {**SMALL_CNN, "epochs": 1, "batch_size": 500}, log=lines.append)
    warned = [line for line in lines if line.startswith("warning:")]
    assert warned == [
        "warning: model m: batch_size 500 is larger than the 60 training windows, so every epoch is one step; "
        "lower models.m.batch_size"
    ]


def test_nan_loss_stops_with_one_line_naming_epoch_step_and_checkpoint(tmp_path, monkeypatch):
    from genomedl.training.engine import SequenceClassifier

    paths = write_synthetic(tmp_path / "data", n=200)
    step, forward = SequenceClassifier.training_step, SequenceClassifier.forward

    def poisoned_step(self, batch, batch_idx):  # the 3rd step of epoch 2 produces NaN logits
        self.poisoned = (self.current_epoch, batch_idx) == (1, 2)
        return step(self, batch, batch_idx)

    def poisoned_forward(self, tokens):
        return forward(self, tokens) * (float("nan") if getattr(self, "poisoned", False) else 1.0)

    monkeypatch.setattr(SequenceClassifier, "training_step", poisoned_step)
    monkeypatch.setattr(SequenceClassifier, "forward", poisoned_forward)
    with pytest.raises(GenomedlError) as info:
        train(paths, tmp_path / "out", {**SMALL_CNN, "batch_size": 16})
    message = str(info.value)
    assert len(message.splitlines()) == 1 and "epoch 2, step 3;" in message, repr(message)
    assert "last.ckpt (epoch 1)" in message and "models.m.lr" in message
    assert len(read_tsv(tmp_path / "out" / "history.tsv")) == 1  # no NaN epoch recorded


def test_out_of_memory_suggests_a_smaller_batch(tmp_path, monkeypatch):
    from genomedl.training.engine import SequenceClassifier

    paths = write_synthetic(tmp_path / "data", n=100)

    def oom(self, batch, batch_idx):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(SequenceClassifier, "training_step", oom)
    with pytest.raises(GenomedlError, match=r"batch_size 32; try models\.m\.batch_size: 16"):
        train(paths, tmp_path / "out", SMALL_CNN)


def test_the_weight_average_is_what_validation_and_the_saved_model_use(tmp_path):
    """One step per epoch (batch larger than the 60 training windows). An average over a million epochs
    barely moves after its first update (a copy of the weights after step 1), so three epochs with it save
    the weights of a one-epoch run; three epochs without it save something else."""
    paths = write_synthetic(tmp_path / "data", n=100)
    plain = {**SMALL_CNN, "batch_size": 500, "schedule": "none"}

    def weights(name: str, settings: dict) -> dict:
        train(paths, tmp_path / name, settings)
        return load_model(tmp_path / name / "model.ckpt")[1]["state_dict"]

    one_step = weights("one_step", {**plain, "epochs": 1})
    averaged = weights("averaged", {**plain, "epochs": 3, "ema_epochs": 1e6})
    three_steps = weights("three_steps", {**plain, "epochs": 3})
    floats = [k for k, v in one_step.items() if v.is_floating_point()]
    assert all(torch.allclose(averaged[k], one_step[k], atol=1e-5) for k in floats)
    assert not all(torch.allclose(three_steps[k], one_step[k], atol=1e-3) for k in floats)
    history = read_tsv(tmp_path / "averaged" / "history.tsv")
    assert history["val_loss"].max() - history["val_loss"].min() < 1e-4  # validation scored the average


@pytest.mark.parametrize("deterministic", [False, True])
def test_training_leaves_the_process_wide_torch_flags_as_it_found_them(tmp_path, deterministic):
    """On CPU training runs with deterministic algorithms; a caller's own setting is back afterwards."""
    paths = write_synthetic(tmp_path / "data", n=100)
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(deterministic, warn_only=deterministic)
    try:
        train(paths, tmp_path / "out", {**SMALL_CNN, "epochs": 1})
        assert torch.are_deterministic_algorithms_enabled() is deterministic
        assert torch.is_deterministic_algorithms_warn_only_enabled() is deterministic
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def test_finished_runs_leave_no_checkpoints_and_stale_ones_are_discarded(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=100)
    train(paths, tmp_path / "out", {**SMALL_CNN, "epochs": 1})
    assert not (tmp_path / "out" / "checkpoints").exists()  # a rerun after success trains afresh
    ckpt_dir = tmp_path / "stale" / "checkpoints"
    assert resume_point(ckpt_dir, {"lr": 0.1}, 1, print) is None
    (ckpt_dir / "last.ckpt").parent.mkdir(parents=True, exist_ok=True)
    (ckpt_dir / "last.ckpt").write_bytes(b"from an interrupted run")
    assert resume_point(ckpt_dir, {"lr": 0.1}, 1, print) == ckpt_dir / "last.ckpt"
    messages = []
    assert resume_point(ckpt_dir, {"lr": 0.2}, 1, messages.append) is None
    assert not (ckpt_dir / "last.ckpt").exists() and "starting afresh" in messages[0]


def placement(**settings) -> dict:
    """A models entry's accelerator, devices and num_nodes, the schema's defaults where not given."""
    return stage_settings("model", {"arch": "cnn", **settings})


def test_cluster_layout_follows_slurm_and_settings():
    slurm = {"SLURM_NTASKS": "8", "SLURM_NTASKS_PER_NODE": "4(x2)", "SLURM_NNODES": "2", "SLURM_JOB_NAME": "train"}
    assert cluster_layout(placement(), env=slurm, cuda_devices=4) == {
        "accelerator": "gpu",
        "devices": 4,
        "num_nodes": 2,
        "strategy": "ddp",
    }
    one_task = {"SLURM_NTASKS": "1", "SLURM_NNODES": "1", "SLURM_JOB_NAME": "train"}
    assert cluster_layout(placement(), env=one_task, cuda_devices=4)["strategy"] == "auto"
    assert cluster_layout(placement(), env={}, cuda_devices=0) == {
        "accelerator": "cpu",
        "devices": 1,
        "num_nodes": 1,
        "strategy": "auto",
    }
    assert cluster_layout(placement(accelerator="cpu", devices=2), env={}, cuda_devices=4)["strategy"] == "ddp"
    interactive = {**slurm, "SLURM_JOB_NAME": "interactive"}
    assert cluster_layout(placement(), env=interactive, cuda_devices=2)["devices"] == 2


def test_precision_choice():
    assert precision_for("auto", on_gpu=True, bf16_ok=True) == "bf16-mixed"
    assert precision_for("auto", on_gpu=True, bf16_ok=False) == "16-mixed"
    assert precision_for("auto", on_gpu=False, bf16_ok=False) == "32-true"
    assert precision_for("32", on_gpu=True, bf16_ok=True) == "32-true"


@pytest.mark.parametrize(
    "setting, n_train, small, expected",
    [
        ("auto", 80, 64, 16),  # a quarter of the windows: more steps per epoch on tiny data
        ("auto", 1_700, 64, 64),
        ("auto", 1_700, 32, 32),  # the cnn's small-data size (auto_batch_small)
        ("auto", 50_000, 32, 32),
        ("auto", 130_000, 32, 128),  # large data: an epoch of 1,000-2,000 steps
        ("auto", 130_000, 64, 128),
        ("auto", 1_000_000, 32, 512),
        ("auto", 30_000_000, 32, 1024),  # at most 1024
        (32, 1_000_000, 64, 32),  # a given size is kept
    ],
)
def test_auto_batch_size_follows_the_data_size(setting, n_train, small, expected):
    assert global_batch_size(setting, n_train, small) == expected


def test_the_default_cnn_batch_is_auto_with_a_small_data_size_of_32():
    settings = stage_settings("model", {"arch": "cnn"})
    assert (settings["batch_size"], settings["auto_batch_small"]) == ("auto", 32)
    assert stage_settings("model", {"arch": "lstm"})["auto_batch_small"] == 64


def test_fit_verdicts():
    chance = math.log(2)
    assert fit_verdict([0.69, 0.69, 0.68], [0.69, 0.69, 0.69], 2)["verdict"] == "underfitting"
    over = fit_verdict([0.5, 0.3, 0.1, 0.05], [0.45, 0.35, 0.45, 0.6], 2)
    assert over["verdict"] == "overfitting" and over["best_epoch"] == 2
    assert fit_verdict([0.5, 0.3, 0.2], [0.5, 0.4, 0.3], 2)["verdict"] == "undertrained"
    assert fit_verdict([0.5, 0.3, 0.25, 0.24], [0.4, 0.3, 0.3, 0.31], 2)["verdict"] == "good_fit"
    assert fit_verdict([chance], [chance], 2)["verdict"] == "too_few_epochs"


def test_gradient_flags():
    first = {"conv": 1.0, "dense": 2.0}
    assert flag_layers({"conv": 1.0, "dense": 2.0}, first) == []
    assert flag_layers({"conv": 500.0, "dense": 2.0}, first) == ["conv:exploding"]
    assert flag_layers({"conv": float("nan"), "dense": 2.0}, first) == ["conv:exploding"]
    assert flag_layers({"conv": 1e-4, "dense": 2.0}, first) == ["conv:vanishing"]
    assert flag_layers({"conv": 1e-5, "dense": 2.0}, {}) == ["conv:vanishing"]


def test_the_prior_loss_is_the_loss_of_the_best_constant_guess():
    assert prior_loss([50, 50], [1.0, 1.0]) == pytest.approx(math.log(2))
    assert prior_loss([50, 50], [1.0, 1.0], smoothing=0.3) == pytest.approx(math.log(2))  # balanced: unchanged
    skewed = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert prior_loss([90, 10], [1.0, 1.0]) == pytest.approx(skewed)
    assert prior_loss([90, 10], [1.0, 9.0]) == pytest.approx(math.log(2))  # class weights even the classes out


def history_row(epoch: int, train_loss: float, val_auroc: float, flags: str = "") -> dict:
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "val_auroc": val_auroc,
        "grad_norm/conv": 1e-9,
        "grad_norm/out": 1e-9,
        "grad_flags": flags,
    }


def test_a_collapse_is_a_loss_stuck_at_the_prior_with_dead_gradients_or_chance_for_three_epochs():
    prior = math.log(2)
    learning = [history_row(1, 0.69, 0.52), history_row(2, 0.60, 0.70), history_row(3, 0.5, 0.8)]
    assert collapse(learning, prior) is None
    dead = history_row(2, 0.6931, 0.9, "conv:vanishing;out:vanishing")
    reason = collapse([history_row(1, 0.5, 0.9), dead], prior)
    assert "every layer's gradient vanished at epoch 2" in reason
    assert collapse([history_row(1, 0.5, 0.9), {**dead, "grad_flags": "conv:vanishing"}], prior) is None
    stuck = [history_row(e, 0.6931, 0.5) for e in (1, 2, 3)]
    assert "for epochs 1-3" in collapse(stuck, prior)
    assert collapse(stuck[:2], prior) is None  # two epochs are not yet a collapse (slow starters)
    assert collapse([*stuck[:2], history_row(3, 0.6931, 0.6)], prior) is None  # validation above chance
    assert collapse([*stuck[:2], history_row(3, 0.65, 0.5)], prior) is None  # the loss moved below the prior


def dead_head_first(monkeypatch) -> list[int]:
    """Plant a collapse: the first network built gets its dense layer's biases at -1000 (every hidden ReLU dead,
    so the output is a constant and no gradient reaches the layers below); later ones are built normally."""
    from genomedl.training import engine

    built, initialise = [], engine.initialise

    def planted(model, scheme):
        initialise(model, scheme)
        built.append(1)
        if len(built) == 1:
            torch.nn.init.constant_(model.head[1][0].bias, -1000.0)

    monkeypatch.setattr(engine, "initialise", planted)
    return built


def test_a_collapsed_run_restarts_from_a_fresh_start_at_a_lower_learning_rate(tmp_path, monkeypatch):
    built = dead_head_first(monkeypatch)
    paths = write_synthetic(tmp_path / "data", balanced=True)
    messages = []
    run = train(paths, tmp_path / "out", {**SMALL_CNN, "epochs": 8}, log=messages.append)
    assert len(built) == 2 and len(run["restarts"]) == 1
    restart = run["restarts"][0]
    assert restart["lr"] == SMALL_CNN["lr"] and "validation AUROC at chance" in restart["reason"]
    assert "stuck at the label prior (0.6931)" in restart["reason"]  # balanced classes: ln 2
    assert run["trained_lr"] == pytest.approx(SMALL_CNN["lr"] / 3) and run["trained_seed"] != restart["seed"]
    assert any(m.startswith("warning: model m of dataset ") and "restart 1 of 2" in m for m in messages)
    history = read_tsv(tmp_path / "out" / "history.tsv")
    assert history["epoch"].tolist() == list(range(1, 9)) and history["val_auroc"].max() > 0.95  # the second run's
    assert not (tmp_path / "out" / "checkpoints").exists()


def test_a_run_that_never_learns_stops_with_one_line_naming_model_dataset_and_attempts(tmp_path):
    """Labels drawn independently of the sequences: nothing to learn, every attempt collapses."""
    paths = write_synthetic(tmp_path / "results" / "tiny" / "encoded", n=1000, balanced=True)  # dataset "tiny"
    labels = read_tsv(paths["labels"])
    labels["label"] = np.random.default_rng(3).permutation(labels["label"].to_numpy())
    labels.to_csv(paths["labels"], sep="\t", index=False)
    out = tmp_path / "results" / "tiny" / "models" / "m"
    with pytest.raises(GenomedlError) as info:
        train(paths, out, {**SMALL_CNN, "lr": 1e-4, "epochs": 12, "restarts": 1})
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith("model m of dataset tiny did not learn in 2 attempts") and "lr 0.0001 " in message
    assert "lr 3.33e-05 " in message and "models.m.lr" in message
    assert not (out / "model.ckpt").exists() and not (out / "run.json").exists()


def test_a_run_killed_after_a_collapse_resumes_at_the_restart(tmp_path):
    paths = write_synthetic(tmp_path / "data", balanced=True)
    out, settings = tmp_path / "out", {**SMALL_CNN, "epochs": 2}
    # auto without a qc verdict: the forward strand and the mixed head
    trained = {**stage_settings("model", settings), "rc_augment": False, "head": "mixed"}
    stamp = {"config_hash": config_hash({**trained, "seed": 1})}
    earlier = [{"attempt": 1, "lr": 0.01, "seed": 1, "reason": "planted"}]
    write_json({"stamp": stamp, "restarts": earlier}, restarts_path(out / "checkpoints"))
    run = train(paths, out, settings)
    assert run["restarts"] == earlier and run["trained_lr"] == pytest.approx(0.01 / 3)
    assert not restarts_path(out / "checkpoints").exists()


def test_rc_augment_auto_follows_the_quality_gates_strand_verdict(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=100)
    qc = tmp_path / "qc.json"
    write_json({"strands": {"rc_augment": True, "reason": "the planted verdict"}}, qc)
    settings = {**SMALL_CNN, "epochs": 1}
    run = train_with_qc(paths, tmp_path / "auto", settings, qc)
    assert run["settings"]["rc_augment"] is True and "the planted verdict" in run["strands_from"]
    assert trained_strands(tmp_path / "auto") == "both"  # evaluation scores the strands the model learned
    run = train_with_qc(paths, tmp_path / "set", {**settings, "rc_augment": False}, qc)
    assert run["settings"]["rc_augment"] is False and run["strands_from"] == "models.m.rc_augment: false"
    run = train(paths, tmp_path / "none", settings)
    assert run["settings"]["rc_augment"] is False and "without a strand verdict" in run["strands_from"]


def test_cnn_head_auto_follows_the_quality_gates_layout_verdict(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=100)
    qc = tmp_path / "qc.json"
    write_json({"layout": {"head": "pooled", "reason": "the planted verdict"}}, qc)
    settings = {**SMALL_CNN, "epochs": 1}
    run = train_with_qc(paths, tmp_path / "auto", settings, qc)
    assert run["settings"]["head"] == "pooled" and "the planted verdict" in run["head_from"]
    model, payload = load_model(tmp_path / "auto" / "model.ckpt")  # the checkpoint rebuilds the head it trained
    assert payload["hyper"]["head"] == "pooled" and model.head[1][0].in_features == 2 * 16
    run = train_with_qc(paths, tmp_path / "set", {**settings, "head": "flatten"}, qc)
    assert run["settings"]["head"] == "flatten" and run["head_from"] == "models.m.head: flatten"
    run = train(paths, tmp_path / "none", settings)
    assert run["settings"]["head"] == "mixed" and "without a layout verdict" in run["head_from"]


def train_with_qc(paths, out, settings, qc):
    from genomedl.stages.train import run_train

    return run_train(files(paths, qc), out, "m", settings, 1, log=print)
