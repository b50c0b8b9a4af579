"""Pretrain stage: BERT masked-language-model pretraining on unlabelled DNA (train split + extra FASTA).

Reads only the rows that ``split.tsv`` puts in the train split (never val/test), plus optional extra
unlabelled FASTA cut into windows of the same length; a seeded ``holdout`` fraction of them
measures the MLM loss and accuracy per epoch. The encoder is Hugging Face ``BertForMaskedLM`` with
a small ``BertConfig``, trained by Lightning, and written with ``save_pretrained`` together with the
project's tokenizer. Outputs in ``out_dir``: ``encoder/`` (folder, renamed into place when complete),
``history.tsv`` (per epoch) and ``run.json``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from genomedl.atomic import atomic_dir
from genomedl.config import stage_settings
from genomedl.data.datasets import SplitData
from genomedl.data.loaders import loader
from genomedl.encoding.masking import IGNORE, whole_kmer_mask
from genomedl.encoding.tokenizer import kmer_ids, n_tokens, save_tokenizer, vocab
from genomedl.encoding.tokens import bytes_to_tokens, load_tokens
from genomedl.errors import GenomedlError
from genomedl.models.layers import reverse_complement_tokens
from genomedl.provenance import config_hash, hardware, utc_now, versions
from genomedl.tables import read_tsv, write_json, write_tsv
from genomedl.training.engine import on_cuda, warmup_cosine
from genomedl.training.placement import cluster_layout, native_bf16, precision_for, torch_flags_kept


def fasta_windows(paths: list[str], length: int, max_n_fraction: float) -> np.ndarray:
    """Unlabelled FASTA (plain or gzip) -> non-overlapping windows uint8 ``[n, length]``.

    Each record is tiled from its start; the tail shorter than ``length`` and windows with more than
    ``max_n_fraction`` N are dropped.
    """
    if not paths:
        return np.zeros((0, length), dtype=np.uint8)
    import pysam  # only here: pretraining without extra FASTA runs on GPU nodes without pysam

    blocks = []
    for path in paths:
        with pysam.FastxFile(str(path)) as handle:
            for record in handle:
                bases = bytes_to_tokens(record.sequence.encode(), f"{path} record {record.name}")
                usable = len(bases) // length * length
                blocks.append(bases[:usable].reshape(-1, length))
    if not blocks:
        return np.zeros((0, length), dtype=np.uint8)
    windows = np.concatenate(blocks)
    return windows[(windows == 4).mean(1) <= max_n_fraction]


def pretraining_set(
    tokens_path: Path, split_path: Path, extra_fasta: list[str], max_n_fraction: float
) -> tuple[np.ndarray, int, int]:
    """(windows uint8 ``[n, L]``, train-split rows, extra windows): the train split and the extra FASTA."""
    tokens = load_tokens(tokens_path)
    split = read_tsv(split_path)
    if len(split) != len(tokens):
        raise GenomedlError(f"{split_path}: {len(split)} rows for {len(tokens)} windows; rerun the split stage")
    train = np.asarray(tokens[np.flatnonzero(split["split"].to_numpy() == "train")])
    extra = fasta_windows(extra_fasta, tokens.shape[1], max_n_fraction)
    return np.concatenate([train, extra]), len(train), len(extra)


def mlm_step(model, ids: torch.Tensor, span: int, rate: float, vocab_size: int):
    """One masked-LM forward pass of a ``BertForMaskedLM`` on ids ``[B, T]``: (mean loss, correct predictions,
    masked tokens).

    The MLM head (``model.cls``, hidden -> vocabulary logits) runs on the M masked positions only, ``[M, H]
    -> [M, V]``, instead of all B*T: the same loss as Hugging Face's full-head loss (which ignores the other
    positions), at about 15 % of the head's cost.
    """
    inputs, labels, masked = whole_kmer_mask(ids, span, rate, vocab_size)
    hidden = model.bert(input_ids=inputs).last_hidden_state  # [B, T, H]
    target = labels[masked]  # [M]; labels are IGNORE exactly where masked is False
    logits = model.cls(hidden[masked])  # [M, V]
    loss = F.cross_entropy(logits.float(), target, ignore_index=IGNORE)
    return loss, (logits.argmax(-1) == target).sum(), masked.sum()


def bert_config(settings: dict, length: int):
    """A ``BertConfig`` for windows of ``length`` bp from the pretrain settings.

    No dropout on attention weights, so that PyTorch's fused attention kernels apply.
    """
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(vocab(settings["k"])),
        hidden_size=settings["hidden"],
        num_hidden_layers=settings["layers"],
        num_attention_heads=settings["heads"],
        intermediate_size=settings["intermediate"],
        max_position_embeddings=n_tokens(length, settings["k"], settings["overlapping"]),
        hidden_dropout_prob=settings["dropout"],
        attention_probs_dropout_prob=0.0,
        type_vocab_size=1,
        pad_token_id=0,
        attn_implementation=settings["attention"],
    )


class MaskedLM(L.LightningModule):
    """Lightning wrapper of ``BertForMaskedLM``: batches of uint8 windows ``[B, L]`` -> MLM loss."""

    def __init__(self, settings: dict, length: int):
        super().__init__()
        from transformers import BertForMaskedLM

        self.settings, self.length = settings, length
        self.model = BertForMaskedLM(bert_config(settings, length))
        if settings["compile"]:
            self.model.bert.compile()  # the encoder; the MLM head runs eagerly on the masked positions
        self.span = settings["k"] if settings["overlapping"] and settings["k"] > 1 else 1
        self.vocab_size = len(vocab(settings["k"]))
        self.sums: dict[str, torch.Tensor] = {}

    def _step(self, batch, stage: str):
        tokens = batch[0]
        if stage == "train" and self.settings["rc_augment"]:
            flip = torch.rand(len(tokens), device=tokens.device) < 0.5
            tokens = torch.where(flip[:, None], reverse_complement_tokens(tokens), tokens)
        ids = kmer_ids(tokens, self.settings["k"], self.settings["overlapping"])
        loss, correct, count = mlm_step(self.model, ids, self.span, self.settings["mask_rate"], self.vocab_size)
        self.log(f"{stage}_mlm_loss", loss, on_step=False, on_epoch=True, batch_size=len(tokens), sync_dist=True)
        for name, value in (("correct", correct), ("count", count)):
            key = f"{stage}_{name}"
            self.sums[key] = self.sums.get(key, 0) + value.detach()
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def accuracy(self, stage: str) -> float:
        """MLM accuracy (masked tokens predicted exactly) of ``stage`` since the last call."""
        correct, count = (
            self.all_gather(self.sums.pop(f"{stage}_{n}", torch.zeros((), device=self.device))).sum()
            for n in ("correct", "count")
        )
        return float(correct) / max(float(count), 1.0)

    def configure_optimizers(self):
        s = self.settings
        optimizer = torch.optim.AdamW(  # no gradient clipping here, so fused also under fp16 loss scaling
            self.parameters(), lr=s["lr"], weight_decay=s["weight_decay"], fused=on_cuda(self)
        )
        total = int(self.trainer.estimated_stepping_batches)
        warmup = int(round(s["warmup"] * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, warmup, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


class MLMHistory(L.Callback):
    """One row per epoch (MLM loss and accuracy, train and held-out), rewritten atomically to ``path``."""

    def __init__(self, path: Path, log):
        self.path, self.echo, self.rows = path, log, []
        self.val_acc = float("nan")
        self._t0 = time.time()

    def on_train_epoch_start(self, trainer, module):
        self._t0 = time.time()

    def on_validation_epoch_end(self, trainer, module):
        self.val_acc = module.accuracy("val")

    def on_train_epoch_end(self, trainer, module):
        metrics = trainer.callback_metrics
        row = {
            "epoch": trainer.current_epoch + 1,
            "train_mlm_loss": float(metrics["train_mlm_loss"]),
            "train_mlm_acc": module.accuracy("train"),
            "val_mlm_loss": float(metrics.get("val_mlm_loss", "nan")),
            "val_mlm_acc": self.val_acc,
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "seconds": round(time.time() - self._t0, 3),
        }
        self.rows.append(row)
        if trainer.is_global_zero:
            write_tsv(pd.DataFrame(self.rows), self.path)
            self.echo(
                f"pretrain: epoch {row['epoch']}/{trainer.max_epochs} MLM loss {row['train_mlm_loss']:.4f} "
                f"held-out {row['val_mlm_loss']:.4f}, accuracy {row['val_mlm_acc']:.3f} ({row['seconds']} s)"
            )


def majority_accuracy(windows: np.ndarray, settings: dict) -> float:
    """Accuracy of always predicting the most frequent token: the floor for MLM accuracy."""
    ids = kmer_ids(torch.from_numpy(windows), settings["k"], settings["overlapping"])[:, 1:-1]
    counts = torch.bincount(ids.flatten(), minlength=len(vocab(settings["k"])))
    return float(counts.max()) / max(float(counts.sum()), 1.0)


def run_pretrain(tokens: Path, split: Path, out_dir: Path, settings: dict, seed: int, log=print) -> dict:
    """Pretrain a BERT encoder on the train split (+ extra FASTA); write ``encoder/``, ``history.tsv``, ``run.json``
    in ``out_dir``. ``settings``: schema section ``pretrain``."""
    settings = stage_settings("pretrain", settings)
    started = utc_now()
    L.seed_everything(seed, workers=True, verbose=False)
    windows, n_train, n_extra = pretraining_set(tokens, split, settings["extra_fasta"], settings["max_n_fraction"])
    length = windows.shape[1]
    order = np.random.default_rng(seed).permutation(len(windows))
    n_hold = max(int(round(settings["holdout"] * len(windows))), 1)
    if len(windows) - n_hold < 1:
        raise GenomedlError(f"{split}: {len(windows)} pretraining windows are too few; add pretrain.extra_fasta")
    part = lambda rows: SplitData(windows[np.sort(rows)], np.zeros(len(rows), np.int64), [])  # noqa: E731
    held, train = part(order[:n_hold]), part(order[n_hold:])
    layout = cluster_layout(settings)
    on_gpu = layout["accelerator"] == "gpu"
    precision = precision_for(str(settings["precision"]), on_gpu, on_gpu and native_bf16())
    batch = max(int(settings["batch_size"]) // (layout["devices"] * layout["num_nodes"]), 1)
    module = MaskedLM(settings, length)
    history = MLMHistory(out_dir / "history.tsv", log)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    log(
        f"pretrain: {len(train.tokens)} windows ({n_train} train-split, {n_extra} extra FASTA) + {n_hold} held out, "
        f"{length} bp, k = {settings['k']}, {sum(p.numel() for p in module.model.parameters())} parameters"
    )
    with torch_flags_kept():  # deterministic=True turns a process-wide flag on: off again after fit
        trainer = L.Trainer(
            max_epochs=int(settings["epochs"]),
            precision=precision,
            logger=False,
            callbacks=[history],
            enable_checkpointing=False,
            enable_progress_bar=os.isatty(2),
            enable_model_summary=False,
            deterministic=not on_gpu,
            default_root_dir=out_dir,
            num_sanity_val_steps=0,
            **layout,
        )
        t0 = time.time()
        trainer.fit(
            module,
            loader(
                train,
                batch,
                shuffle_seed=seed,
                distributed=layout["devices"] > 1,
                pin_memory=on_gpu,
                fixed_shape=settings["compile"],
            ),
            loader(held, max(batch, 256), pin_memory=on_gpu),
        )
    if not trainer.is_global_zero:
        return {}
    model = getattr(module.model, "_orig_mod", module.model)
    with atomic_dir(out_dir / "encoder") as folder:
        model.save_pretrained(folder)
        save_tokenizer(folder, settings["k"], settings["overlapping"], length)
    run = {
        "settings": settings,
        "seed": seed,
        "config_hash": config_hash(settings),
        "length": length,
        "windows": {"train_split": n_train, "extra_fasta": n_extra, "held_out": n_hold},
        "parameters": sum(p.numel() for p in model.parameters()),
        "majority_token_accuracy": majority_accuracy(held.tokens, settings),
        "final": history.rows[-1] if history.rows else {},
        "precision": trainer.precision,
        "train_seconds": round(time.time() - t0, 2),
        "versions": versions(),
        "hardware": hardware(torch.cuda.get_device_name() if on_gpu else "cpu"),
        "started_at": started,
        "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    return run
