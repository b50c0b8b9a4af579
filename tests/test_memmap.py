"""Tokens read memory-mapped: training batches and evaluation scores equal those of the in-RAM arrays, and a
token file larger than the memory a training process may allocate trains (synthetic tokens: only the
batches and the memory are under test, not what a model learns)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from genomedl.data.datasets import SplitData, TokenRows, load_dataset
from genomedl.data.loaders import loader
from genomedl.inference import load_model, predict_proba
from genomedl.tables import write_json, write_tsv
from helpers import LENGTH, files, save_tiny_cnn, single_thread_env, write_synthetic

pytestmark = pytest.mark.usefixtures("one_thread")


def in_ram(part: SplitData, tokens: np.ndarray) -> SplitData:
    """The split as the loader got it before tokens were memory-mapped: its rows copied into RAM."""
    return SplitData(np.ascontiguousarray(tokens[part.tokens.rows]), part.labels, part.ids)


def test_batches_and_scores_equal_those_of_the_in_ram_array(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=203, length=LENGTH)
    data = load_dataset(files(paths))
    whole = np.load(paths["tokens"])
    train, val, test = data.parts["train"], data.parts["val"], data.parts["test"]
    assert isinstance(train.tokens, TokenRows) and isinstance(train.tokens.source, np.memmap)
    for part, options in ((train, {"shuffle_seed": 7}), (val, {"fixed_shape": True})):
        mapped, ram = loader(part, 16, **options), loader(in_ram(part, whole), 16, **options)
        for epoch in range(2):
            for each in (mapped, ram):
                getattr(each.sampler, "set_epoch", lambda _: None)(epoch)
            got, expected = list(mapped), list(ram)
            assert len(got) == len(expected) > 1
            for (tokens, labels), (tokens_ram, labels_ram) in zip(got, expected):
                assert tokens.dtype == torch.uint8 and torch.equal(tokens, tokens_ram)
                assert torch.equal(labels, labels_ram)
    # a shuffled batch comes in the sampler's order, not the file's (the sorted read is undone)
    batch = next(iter(loader(train, 16, shuffle_seed=7)))[0].numpy()
    rows = [int(np.flatnonzero((whole == row).all(1))[0]) for row in batch]
    assert rows != sorted(rows)
    model, _ = load_model(save_tiny_cnn(tmp_path / "model") / "model.ckpt")
    np.testing.assert_array_equal(
        predict_proba(model, test.tokens, 8), predict_proba(model, whole[test.tokens.rows], 8)
    )


LIMITED_TRAINING = textwrap.dedent(
    """
    import resource
    import sys
    from pathlib import Path

    import numpy as np
    import lightning  # imported before the limit: loading torch and Lightning maps their libraries and heaps
    from genomedl.encoding.tokens import load_tokens
    from genomedl.data.files import DatasetFiles
    from genomedl.stages.train import run_train

    folder, margin = Path(sys.argv[1]), int(sys.argv[2])
    data = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmData:"))
    resource.setrlimit(resource.RLIMIT_DATA, (data + margin, data + margin))
    try:
        np.array(load_tokens(folder / "tokens.npy"))
        sys.exit("the token array could be copied into memory under the limit: the limit proves nothing")
    except MemoryError:
        pass
    settings = {"arch": "cnn", "filters": [4], "kernels": [3], "pools": [8], "hidden": [8], "epochs": 2,
                "batch_size": 64, "patience": 5}
    paths = [folder / name for name in ("tokens.npy", "meta.json", "labels.tsv", "split.tsv")]
    run = run_train(DatasetFiles(*paths), folder / "model", "m", settings, 1, log=lambda *_: None)
    print("trained", run["epochs_run"])
    """
)


def test_a_token_file_larger_than_the_allowed_memory_trains(tmp_path):
    """Training runs in a process whose private memory may grow by ``margin`` bytes after torch is loaded
    (RLIMIT_DATA), on a token file 2 x ``margin`` (training itself needs about half of ``margin``).

    RLIMIT_DATA counts private writable memory: the heap and anonymous mappings, so every array numpy or
    torch allocates. It does not count a read-only shared file mapping (``np.load(mmap_mode="r")``), whose
    pages the kernel reads on demand and may drop again. So the run finishes only if tokens are read from the
    mapping batch by batch; copying the split into RAM, as before, raises MemoryError (checked first in the
    same process, so the limit is known to bite). RLIMIT_AS would not do: it counts the file mapping too.
    The file is sparse apart from the train and val rows, spread over it, so the test writes little to disk.
    """
    margin, length = 256 << 20, 2048
    n = 2 * margin // length
    rng = np.random.default_rng(0)
    split = np.where(np.arange(n) % 128 == 0, "train", np.where(np.arange(n) % 128 == 1, "val", "test"))
    tokens = np.lib.format.open_memmap(tmp_path / "tokens.npy", mode="w+", dtype=np.uint8, shape=(n, length))
    used = np.flatnonzero(split != "test")
    tokens[used] = rng.integers(0, 4, (len(used), length), dtype=np.uint8)
    tokens.flush()
    del tokens
    ids = [f"w{i}" for i in range(n)]
    write_tsv(pd.DataFrame({"id": ids, "label": rng.choice(["neg", "pos"], n)}), tmp_path / "labels.tsv")
    write_tsv(pd.DataFrame({"id": ids, "split": split}), tmp_path / "split.tsv")
    write_json({"classes": ["neg", "pos"], "length": length}, tmp_path / "meta.json")
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_TRAINING, str(tmp_path), str(margin)],
        capture_output=True,
        text=True,
        env=single_thread_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["trained", "2"]
    assert (tmp_path / "model" / "model.ckpt").exists()
