"""Where and how a Lightning run computes: accelerator, devices and nodes (SLURM-aware), strategy, precision."""

from __future__ import annotations

import contextlib
import inspect
import os

import torch

# Lightning's precision for each forced setting of choices.PRECISIONS ("auto" picks one of them)
LIGHTNING_PRECISION = {"32": "32-true", "bf16": "bf16-mixed", "16": "16-mixed"}


def cluster_layout(settings: dict, env=os.environ, cuda_devices: int | None = None) -> dict:
    """Trainer placement: ``{"accelerator", "devices", "num_nodes", "strategy"}``.

    Under SLURM (``SLURM_NTASKS`` set, job not named bash/interactive) one process per task:
    devices = tasks per node, num_nodes = ``SLURM_NNODES``; otherwise ``settings["devices"]`` ("auto":
    every visible GPU, or 1 on CPU) on ``settings["num_nodes"]`` nodes. DDP whenever there is more than one process.
    ``settings``: a models entry or the pretrain section, validated (keys accelerator, devices, num_nodes).
    """
    accelerator = settings["accelerator"]
    if cuda_devices is None:
        cuda_devices = torch.cuda.device_count()
    on_gpu = accelerator == "gpu" or (accelerator == "auto" and cuda_devices > 0)
    if "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        nodes = int(env.get("SLURM_NNODES", "1"))
        per_node = env.get("SLURM_NTASKS_PER_NODE", "")
        devices = int(per_node.split("(")[0]) if per_node else max(int(env["SLURM_NTASKS"]) // nodes, 1)
    else:
        nodes = int(settings["num_nodes"])
        devices = settings["devices"]
        devices = (cuda_devices if on_gpu else 1) if devices == "auto" else int(devices)
    return {
        "accelerator": "gpu" if on_gpu else "cpu",
        "devices": devices,
        "num_nodes": nodes,
        "strategy": "ddp" if devices * nodes > 1 else "auto",
    }


def precision_for(setting: str, on_gpu: bool, bf16_ok: bool) -> str:
    """Lightning precision: "auto" = bf16 autocast where the GPU supports it, fp16 with loss scaling on
    older GPUs, fp32 on CPU; "32", "bf16" and "16" force one."""
    if setting == "auto":
        return ("bf16-mixed" if bf16_ok else "16-mixed") if on_gpu else "32-true"
    return LIGHTNING_PRECISION[str(setting)]


def native_bf16() -> bool:
    """Whether the current CUDA GPU computes bf16 natively (Ampere or newer); emulated bf16 (V100, T4) is not
    counted, so "auto" picks fp16 there. False without CUDA."""
    if not torch.cuda.is_available():
        return False
    if "including_emulation" in inspect.signature(torch.cuda.is_bf16_supported).parameters:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    return torch.cuda.is_bf16_supported()


@contextlib.contextmanager
def torch_flags_kept():
    """Lightning's ``deterministic`` and our cudnn choice set process-wide torch flags; inside this block they may
    change, after it the caller's settings are back (a notebook that trains and then attributes is not left with
    deterministic algorithms on)."""
    kept = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(kept[0], warn_only=kept[1])
        torch.backends.cudnn.benchmark = kept[2]
