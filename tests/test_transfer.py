"""Cross-dataset evaluation (datasets.<name>.evaluate_on): models trained on one dataset scored on another's
windows, beside their own test split; config checks in genomedl.config.resolve."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from genomedl.cli import main
from genomedl.config import resolve, validate_config
from genomedl.errors import GenomedlError
from genomedl.stages.encode import run_encode
from genomedl.stages.evaluate import run_evaluate
from genomedl.stages.extract import run_extract
from genomedl.stages.split import run_split
from genomedl.stages.train import run_train
from genomedl.stages.transfer import METRICS, run_transfer
from genomedl.tables import read_json, read_tsv, write_tsv
from helpers import arabidopsis_slice, cli_args, copy_workflow, files, planned_jobs, write_synthetic

pytestmark = pytest.mark.usefixtures("one_thread")
QUIET = {"log": lambda *a: None}
LENGTH = 100  # bp per splice-site window of both species
MODELS = ("cnn", "kmer")


def splice_dataset(folder, reference: dict) -> dict:
    """extract (splice_site), encode and split (the default locus split) of a reference slice: the model
    stages' files."""
    source = {"reference": {k: str(v) for k, v in reference.items()}}
    settings = {"task": "splice_site", "window": {"length": LENGTH}, "source": source}
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / v for k, v in (("tokens", "t.npy"), ("meta", "m.json"), ("labels", "l.tsv"))}
    paths["split"] = folder / "split.tsv"
    run_extract(folder / "s.fa.gz", paths["labels"], folder / "x.json", settings, seed=1, **QUIET)
    run_encode(folder / "s.fa.gz", paths["labels"], paths["tokens"], paths["meta"], **QUIET)
    run_split(paths["labels"], paths["tokens"], paths["split"], folder / "s.json", {}, seed=1, **QUIET)
    return paths


@pytest.fixture(scope="module")
def thaliana_models(arabidopsis_2mb, tmp_path_factory):
    """A tiny CNN (2 epochs) and the k-mer baseline trained on the first 2 Mb of A. thaliana chromosome 1,
    each evaluated on its test split (1000 bootstrap resamples, seed 42)."""
    from genomedl.stages.baseline import run_baseline

    root = tmp_path_factory.mktemp("thaliana")
    data = splice_dataset(root / "data", arabidopsis_2mb)
    cnn = {"arch": "cnn", "epochs": 2, "filters": [16], "kernels": [9], "pools": [4], "hidden": 16}
    bundle = files(data)
    run_train(bundle, root / "models/cnn", "cnn", cnn, 1, **QUIET)
    run_baseline(bundle, root / "models/kmer", "kmer", {}, 1, **QUIET)
    for model in MODELS:
        run_evaluate(root / f"models/{model}", bundle, root / f"eval/{model}", {"bootstrap": 1000}, 42, **QUIET)
    return {"root": root, "data": data}


@pytest.fixture(scope="module")
def arenosa(tmp_path_factory) -> dict:
    """The first 600 kb of A. arenosa chromosome 1 (LR999451.1) and its annotation, as a splice-site dataset."""
    root = tmp_path_factory.mktemp("arenosa")
    return splice_dataset(root / "data", arabidopsis_slice(root, 600_000, "arenosa"))


def transfer(models: dict, targets: dict, out) -> int:
    """The transfer stage through the command line (its exit status); ``targets``: {name: (split, files)}."""
    root = models["root"]
    argv = cli_args(
        "transfer",
        dataset="thaliana",
        model_dirs=[str(root / f"models/{m}") for m in MODELS],
        eval_dirs=[str(root / f"eval/{m}") for m in reversed(MODELS)],  # matched by model name, not position
        targets=json.dumps(
            {n: {"split": s, "files": {k: str(v) for k, v in f.items()}} for n, (s, f) in targets.items()}
        ),
        out=out,
        bootstrap=1000,
        seed=42,
    )
    return main(argv)


def test_thaliana_models_on_arenosa_beside_their_own_test_split(thaliana_models, arenosa, tmp_path):
    """Real data: in-dataset rows are the evaluate stage's numbers; cross rows count the target's windows; a
    target that is the source's own test split under another name gives the in-dataset numbers again."""
    targets = {"arenosa": ("test", arenosa), "arenosa_all": ("all", arenosa), "copy": ("test", thaliana_models["data"])}
    assert transfer(thaliana_models, targets, tmp_path / "transfer.json") == 0
    result = read_json(tmp_path / "transfer.json")
    assert result["metric"] == "auroc"
    rows = {(r["model"], r["evaluated_on"]): r for r in result["rows"]}
    assert [(r["model"], r["evaluated_on"]) for r in result["rows"]] == [
        (m, t) for m in MODELS for t in ("thaliana", "arenosa", "arenosa_all", "copy")
    ]
    arenosa_split = read_tsv(arenosa["split"])["split"]
    for model in MODELS:
        own = read_json(thaliana_models["root"] / f"eval/{model}/metrics.json")
        row = rows[model, "thaliana"]
        assert row["in_dataset"] and row["trained_on"] == "thaliana" and row["n"] == own["n"]
        assert {k: row[k] for k in METRICS} == {k: [own[k], *own["ci"][k]] for k in METRICS}
        assert {k: rows[model, "copy"][k] for k in (*METRICS, "n")} == {k: row[k] for k in (*METRICS, "n")}
        assert not rows[model, "copy"]["in_dataset"]
        assert rows[model, "arenosa"]["n"] == (arenosa_split == "test").sum() > 0
        assert rows[model, "arenosa_all"]["n"] == len(arenosa_split) > rows[model, "arenosa"]["n"]
        for target, split in (("arenosa", "test"), ("arenosa_all", "all")):
            value, low, high = rows[model, target]["auroc"]
            assert low <= value <= high and low > 0.5  # splice sites of a sister species: well above chance
            assert rows[model, target]["split"] == split and not rows[model, target]["in_dataset"]


def test_targets_of_another_length_or_other_classes_are_refused(thaliana_models, tmp_path, capsys):
    """Synthetic targets (random windows, classes neg/pos): one line naming the key, the target and the fix."""
    shorter = write_synthetic(tmp_path / "short", length=40)
    assert transfer(thaliana_models, {"short": ("test", shorter)}, tmp_path / "t.json") == 2
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(r"genomedl transfer: error: config key datasets.thaliana.evaluate_on: short has 40 bp .*", line)
    assert "same window.length" in line
    other = write_synthetic(tmp_path / "other", length=LENGTH)
    assert transfer(thaliana_models, {"other": ("all", other)}, tmp_path / "t.json") == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and re.search(r"evaluate_on: other has classes \['neg', 'pos'\] .*same task", line)
    assert not (tmp_path / "t.json").exists()


def test_malformed_targets_and_missing_evaluations_are_one_line(thaliana_models, tmp_path):
    root, out = thaliana_models["root"], tmp_path / "t.json"
    models, evals = [root / f"models/{m}" for m in MODELS], [root / f"eval/{m}" for m in MODELS]
    test_only = {"t": {"split": "test", "files": {k: "x" for k in ("tokens", "meta", "labels")}}}
    with pytest.raises(GenomedlError, match=r"^--targets t: give split \(test or all\) and files"):
        run_transfer("thaliana", models, evals, test_only, out, {}, 1)
    with pytest.raises(GenomedlError, match=r"^--eval-dirs: no metrics.json of model\(s\) kmer; run the evaluate"):
        run_transfer("thaliana", models, [root / "eval/cnn"], {}, out, {}, 1)
    no_test = dict(thaliana_models["data"], split=tmp_path / "split.tsv")
    write_tsv(read_tsv(thaliana_models["data"]["split"]).assign(split="train"), no_test["split"])
    with pytest.raises(GenomedlError, match=r"split.tsv: no test windows; .* split: all$"):
        run_transfer("thaliana", models, evals, {"t": {"split": "test", "files": no_test}}, out, {}, 1)
    assert not out.exists()


def two_datasets(first: dict | None = None, **second) -> dict:
    """Config of GenBank datasets a (with ``first`` added) and b (with ``second``), a CNN and a baseline."""
    dataset = {"source": {"local": ["demo.gb"]}, "task": "exon_intron"}
    config = {
        "datasets": {"a": dataset | (first or {}), "b": dataset | second},
        "models": {"cnn": {"arch": "cnn"}},
        "baselines": {"kmer": {}},
    }
    return validate_config(config)


def test_plan_lists_transfer_inputs_and_arguments():
    plan = resolve(two_datasets({"evaluate_on": [{"dataset": "b"}]}, split={"dedupe": "near"}))
    assert plan.transfer_datasets == ("a",) and plan.transfer_targets == {"a": {"b": "test"}}
    files = plan.transfer_files("a")
    assert files["models"] == ["results/a/models/cnn/model.ckpt", "results/a/models/kmer/model.npz"]
    assert files["metrics"] == ["results/a/eval/cnn/metrics.json", "results/a/eval/kmer/metrics.json"]
    assert "results/b/qc/split.tsv" in files["targets"]  # the split the model stages read (dedupe near)
    assert "--targets" in plan.transfer_args("a") and "results/b/qc/split.tsv" in plan.transfer_args("a")
    every = resolve(two_datasets({"evaluate_on": [{"dataset": "b", "split": "all"}]}))
    assert not any(f.endswith("split.tsv") for f in every.transfer_files("a")["targets"])
    assert resolve(two_datasets()).transfer_datasets == ()


@pytest.mark.parametrize(
    "first, second, message",
    [
        ({"evaluate_on": [{"dataset": "c"}]}, {}, r"'c' is not a dataset; .*\(a, b\)"),
        ({"evaluate_on": [{"dataset": "a"}]}, {}, "'a' is this dataset"),
        ({"evaluate_on": [{"dataset": "b"}, {"dataset": "b", "split": "all"}]}, {}, "'b' repeats"),
        ({"evaluate_on": [{"dataset": "b"}]}, {"task": "coding"}, "b has task coding, a exon_intron; .*of their task"),
        ({"evaluate_on": [{"dataset": "b"}]}, {"window": {"length": 300}}, "b has 300 bp windows, a 200 bp; "),
    ],
)
def test_bad_evaluate_on_is_one_line_naming_the_key(first, second, message):
    with pytest.raises(GenomedlError, match="^config key datasets.a.evaluate_on: " + message) as caught:
        resolve(two_datasets(first, **second))
    assert "\n" not in str(caught.value)


def test_evaluate_on_split_is_test_or_all():
    with pytest.raises(GenomedlError, match=r"datasets.a.evaluate_on.0.split: 'train' is not one of test, all"):
        two_datasets({"evaluate_on": [{"dataset": "b", "split": "train"}]})


def test_workflow_plans_one_transfer_job_per_source_dataset(tmp_path):
    workdir = copy_workflow(tmp_path)
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    demo = config["datasets"]["demo"]
    config["datasets"]["other"] = {k: v for k, v in demo.items() if k != "predict"}
    demo["evaluate_on"] = [{"dataset": "other", "split": "all"}]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    assert planned_jobs(workdir)["transfer"] == 1
