"""The global batch size of ``batch_size: auto``: small data a quarter of the training windows, large data an
epoch of 1,000-2,000 steps (benchmarks/RESULTS.md: a GPU's throughput grows about 10x from batch 32 to 1024)."""

from __future__ import annotations

AUTO_BATCH_STEPS = 1000  # batch_size auto: large data gets the batch that makes an epoch 1,000-2,000 steps


AUTO_BATCH_LIMIT = 1024  # ... up to this batch size


def power_of_two_below(n: int) -> int:
    """The largest power of two <= ``n`` (1 for n < 2)."""
    return 1 << max(n, 1).bit_length() - 1


def global_batch_size(setting: int | str, n_train: int, small: int = 64) -> int:
    """A models entry's ``batch_size``: an int as given, or "auto". Small data: ``n_train / 4`` rounded down to a
    power of two, clipped to 8..``small`` (``auto_batch_small``; 106 promoter sequences get 16, 1,700 splice
    windows 64). Large data: ``n_train / 1000`` rounded down to a power of two when that is larger, at most 1024
    (at most about 2,000 steps an epoch: 1 M windows get 512)."""
    if setting != "auto":
        return int(setting)
    small_data = min(small, max(8, power_of_two_below(n_train // 4)))
    return min(AUTO_BATCH_LIMIT, max(small_data, power_of_two_below(n_train // AUTO_BATCH_STEPS)))
