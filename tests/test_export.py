"""Export stage: TorchScript programs + safetensors weights + model cards, used without genomedl."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from genomedl.scoring import model_proba
from genomedl.tables import read_json, read_tsv, write_json, write_tsv
from helpers import files, write_synthetic_dataset

LENGTH = 40
ARCHS = {  # small instances of every registry architecture
    "cnn": {"arch": "cnn", "filters": [8, 8], "kernels": [5, 3], "pools": [2, 2], "hidden": 16, "rc_equivariant": True},
    "dnn": {"arch": "dnn", "hidden": [16, 8]},
    "dnn_kmer": {"arch": "dnn", "features": "kmer", "k": [1, 2, 3], "hidden": [16]},
    "rnn": {"arch": "rnn", "hidden_size": 8},
    "lstm": {"arch": "lstm", "hidden_size": 8, "pooling": "last"},
    "gru": {"arch": "gru", "hidden_size": 8, "pooling": "mean"},
    "danq": {"arch": "danq", "filters": 8, "kernel": 5, "pool": 4, "lstm_hidden": 8, "hidden": 16},
    "transformer": {
        "arch": "transformer",
        "width": 16,
        "depth": 1,
        "heads": 2,
        "k": 3,
        "overlapping": False,
        "positions": "rotary",
    },
    "bert": {"arch": "bert"},
}
SECRET = "sk-do-not-leak-0123456789"

# Runs in a fresh, isolated interpreter: torch, numpy and safetensors only.
FRESH = """
import json, sys
import numpy as np, torch
from safetensors.torch import load_file
assert "genomedl" not in sys.modules
tokens = torch.from_numpy(np.load("tokens.npy"))
out = {}
for folder in json.load(open("folders.json")):
    program = torch.jit.load(folder + "/model.pt")
    with torch.no_grad():
        first, second = program(tokens), program(tokens)   # the second call runs TorchScript's optimised graph
    # the safetensors file holds exactly the program's tensors, all but the computed (non-persistent) buffers
    state = program.net.state_dict()
    weights = load_file(folder + "/model.safetensors")
    assert set(weights) <= set(state) and all(torch.equal(state[k], v) for k, v in weights.items())
    out[folder] = {"probs": [first.tolist(), second.tolist()], "classes": list(program.classes),
                   "not_in_weights": sorted(set(state) - set(weights))}
assert "genomedl" not in sys.modules
json.dump(out, open("out.json", "w"))
"""


def fresh_process(folders: list[Path], tokens: np.ndarray, cwd: Path) -> dict:
    """Run :data:`FRESH` in ``python -I`` on ``folders``; per folder its probabilities and class names."""
    np.save(cwd / "tokens.npy", tokens)
    (cwd / "folders.json").write_text(json.dumps([str(f) for f in folders]))
    done = subprocess.run([sys.executable, "-I", "-c", FRESH], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((cwd / "out.json").read_text())


def computed_buffers(model_dir: Path) -> list[str]:
    """Names of a model's non-persistent buffers (recomputed from settings, so not among its weights)."""
    if not (model_dir / "model.ckpt").exists():
        return []
    from genomedl.inference import load_model

    model, _ = load_model(model_dir / "model.ckpt")
    return sorted({name for name, _ in model.named_buffers()} - set(model.state_dict()))


def tiny_encoder(folder: Path, length: int) -> Path:
    """A one-layer BERT encoder on genomedl's 3-mer tokenizer, saved as the pretrain stage saves it."""
    from transformers import BertForMaskedLM

    from genomedl.encoding.tokenizer import save_tokenizer
    from genomedl.stages.pretrain import bert_config

    settings = {
        "k": 3,
        "hidden": 16,
        "layers": 1,
        "heads": 2,
        "intermediate": 32,
        "overlapping": True,
        "dropout": 0.0,
        "attention": "sdpa",
    }
    torch.manual_seed(0)
    BertForMaskedLM(bert_config(settings, length)).save_pretrained(folder)
    save_tokenizer(folder, 3, True, length)
    return folder


def provenance_files(folder: Path, classes: list[str]) -> dict[str, Path]:
    """A fetch manifest, extract and split summaries as the earlier stages write them."""
    write_tsv(
        pd.DataFrame(
            [
                {
                    "accession_version": "NC_000932.1",
                    "gene_id": "",
                    "symbol": "",
                    "taxon_id": 3702,
                    "organism": "Arabidopsis thaliana",
                    "source": "ncbi",
                    "query": "chloroplast",
                    "retrieved_at": "2026-01-01T00:00:00Z",
                    "sha256": "ab" * 32,
                    "size": 1234,
                }
            ]
        ),
        folder / "manifest.tsv",
    )
    write_json(
        {
            "task": "exon_intron",
            "classes": classes,
            "windows": 600,
            "records": 1,
            "window_length": LENGTH,
            "class_counts": {c: 300 for c in classes},
            "source": "genbank",
        },
        folder / "extract_summary.json",
    )
    write_json(
        {
            "strategy": "stratified_group",
            "group_by": "record",
            "seed": 0,
            "windows": 600,
            "class_counts": {"train": {c: 180 for c in classes}},
            "leakage": {"ok": True},
        },
        folder / "split_summary.json",
    )
    return {
        "manifest": folder / "manifest.tsv",
        "extract_summary": folder / "extract_summary.json",
        "split_summary": folder / "split_summary.json",
    }


BASELINES = {"kmer_logreg": {"k": [1, 2, 3], "C": 1.0}, "onehot_logreg": {"features": "onehot"}}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every architecture (random weights, eval mode), the cnn as if trained without rc_augment (scored on the
    forward strand) and both baselines (fitted), exported."""
    from genomedl.provenance import config_hash, git_commit, versions
    from genomedl.stages.baseline import run_baseline
    from genomedl.stages.export import run_export
    from genomedl.stats.scores import compute_metrics
    from genomedl.training.checkpoints import save_model
    from genomedl.training.engine import SequenceClassifier

    root = tmp_path_factory.mktemp("export")
    data = write_synthetic_dataset(root / "data", n=60, length=LENGTH)
    classes = ["neg", "pos"]
    provenance = provenance_files(root, classes)
    encoder = tiny_encoder(root / "encoder", LENGTH)
    tokens = np.load(data["tokens"])
    models = {}
    for name, settings in ARCHS.items():
        folder = root / "models" / name
        hyper = {k: v for k, v in settings.items() if k != "arch"} | (
            {"encoder": str(encoder)} if name == "bert" else {}
        )
        torch.manual_seed(1)
        module = SequenceClassifier(settings["arch"], LENGTH, 2, hyper, [1.0, 1.0], {"rc_augment": False})
        save_model(folder / "model.ckpt", module, classes)
        run_settings = {**settings, "ncbi": {"api_key": SECRET}}  # a secret where none should be
        write_json(
            {
                "model": name,
                "arch": settings["arch"],
                "settings": run_settings,
                "seed": 7,
                "config_hash": config_hash(run_settings),
                "versions": versions(),
                "git_commit": git_commit(),
                "classes": classes,
                "length": LENGTH,
                # a planted validation temperature for the cnn: its program must apply it
                "calibration": {"method": "temperature", "temperature": 1.7 if name == "cnn" else 1.0},
            },
            folder / "run.json",
        )
        models[name] = folder
    forward = shutil.copytree(models["cnn"], root / "models" / "cnn_forward")  # trained without rc_augment
    run = read_json(forward / "run.json")
    write_json(
        {**run, "model": "cnn_forward", "settings": {**run["settings"], "rc_augment": False}}, forward / "run.json"
    )
    models["cnn_forward"] = forward
    for name, settings in BASELINES.items():
        run_baseline(files(data), root / "models" / name, name, settings, 0, log=lambda *_: None)
        models[name] = root / "models" / name
    rng = np.random.default_rng(0)  # the card copies whatever evaluate wrote
    probs = rng.dirichlet([1, 1], size=len(tokens))
    metrics = {
        **compute_metrics(probs.argmax(1) ^ (rng.random(len(tokens)) < 0.3), probs, classes),
        "ci": {"auroc": [0.1, 0.9]},
        "bootstrap": {"resamples": 10, "seed": 0, "level": 0.95},
    }
    write_json(metrics, root / "eval" / "metrics.json")
    cards = {}
    for name, folder in models.items():
        cards[name] = run_export(
            folder,
            root / "eval",
            data["tokens"],
            provenance["manifest"],
            provenance["extract_summary"],
            provenance["split_summary"],
            root / "export" / name,
            "synthetic",
            {"task": "exon_intron", "source": {"ncbi": {"api_key": SECRET, "query": "x"}}},
            log=lambda *_: None,
        )
    return {"root": root, "models": models, "cards": cards, "metrics": metrics, "tokens": tokens, "files": provenance}


def test_every_model_reloads_in_a_fresh_process_and_reproduces_genomedl(exported):
    models = exported["models"]
    assert set(models) == set(ARCHS) | set(BASELINES) | {"cnn_forward"}
    rng = np.random.default_rng(3)
    tokens = np.concatenate([exported["tokens"][:9], rng.integers(0, 5, size=(4, LENGTH), dtype=np.uint8)])
    assert (tokens == 4).any()  # N windows too, and a batch size not traced
    folders = [exported["root"] / "export" / name for name in models]
    out = fresh_process(folders, tokens, exported["root"])
    for name, folder in zip(models, folders):
        ours = model_proba(models[name], tokens)
        result = out[str(folder)]
        assert result["classes"] == ["neg", "pos"]
        assert np.abs(np.array(result["probs"]) - ours).max() < 1e-5, name
        assert result["not_in_weights"] == computed_buffers(models[name]), name


def test_rebuild_with_genomedl_from_config_and_safetensors(exported):
    from genomedl.inference import predict_proba
    from genomedl.models.baselines import baseline_proba
    from genomedl.stages.export import rebuild
    from genomedl.stats.calibration import apply_temperature

    tokens = exported["tokens"][:16]
    temperatures = {}
    for name in ("cnn", "transformer", "bert", *BASELINES):
        folder = exported["root"] / "export" / name
        model, config = rebuild(folder)
        raw = baseline_proba(model, tokens) if name in BASELINES else predict_proba(model, tokens)
        probs = apply_temperature(raw, config["temperature"])  # the validation temperature, as config.json says
        assert np.abs(probs - model_proba(exported["models"][name], tokens)).max() < 1e-6, name
        assert config["classes"] == ["neg", "pos"] and config["length"] == LENGTH
        temperatures[name] = config["temperature"]
        assert temperatures[name] == read_json(exported["models"][name] / "run.json")["calibration"]["temperature"]
    assert any(abs(t - 1.0) > 0.05 for t in temperatures.values()), temperatures  # the scaling is exercised


def test_program_rejects_wrong_input_with_a_clear_message(exported):
    program = torch.jit.load(str(exported["root"] / "export" / "cnn" / "model.pt"))
    good = torch.from_numpy(exported["tokens"][:2])
    for bad, message in ((good.long(), "uint8"), (good[:, :10], f"shape \\[N, {LENGTH}\\]"), (good + 5, "0..4")):
        with pytest.raises(Exception, match=message):
            program(bad)


def test_card_matches_run_metrics_manifest_and_files(exported):
    root = exported["root"]
    for name, card in exported["cards"].items():
        run = read_json(exported["models"][name] / "run.json")
        assert card["model"] == name and card["arch"] == run["arch"]
        assert card["classes"] == ["neg", "pos"] and card["window_length"] == LENGTH
        for key in ("seed", "config_hash", "git_commit", "versions"):
            assert card["training"][key] == run[key], (name, key)
        metrics = exported["metrics"]
        assert card["metrics"]["values"]["auroc"] == {"value": metrics["auroc"], "ci95": [0.1, 0.9]}
        assert card["metrics"]["values"]["mcc"]["value"] == metrics["mcc"]
        manifest = read_tsv(exported["files"]["manifest"]).iloc[0]
        assert card["training_data"]["records"][0]["accession_version"] == manifest["accession_version"]
        assert card["training_data"]["records"][0]["sha256"] == manifest["sha256"]
        assert card["training_data"]["split"]["leakage_checks_passed"] is True
        for file, entry in card["files"].items():
            content = (root / "export" / name / file).read_bytes()
            assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
        assert card["verification"]["max_abs_diff"] < 1e-5
        on_disk = (root / "export" / name / "model_card.json").read_text()
        assert json.loads(on_disk) == card
        assert SECRET not in on_disk and "api_key" not in on_disk
        assert SECRET not in (root / "export" / name / "model_card.md").read_text()
    for name in ("kmer_logreg", "onehot_logreg", "cnn_forward"):  # scored as evaluated: one strand
        assert exported["cards"][name]["input"]["strand"].startswith("the window as given"), name
    assert exported["cards"]["cnn"]["input"]["strand"].startswith("probabilities are the mean")
    assert exported["cards"]["transformer"]["input"]["features"] == {"kind": "token ids", "k": 3, "overlapping": False}
    assert exported["cards"]["bert"]["input"]["features"] == {"kind": "token ids", "k": 3, "overlapping": True}
    assert exported["cards"]["cnn"]["input"]["features"] == {"kind": "one-hot"}


def test_report_section_lists_every_card_escaped(exported, tmp_path):
    from genomedl.html import environment
    from genomedl.reporting.model_cards import card_entries

    root = exported["root"]
    card_path = root / "export" / "cnn" / "model_card.json"
    card = read_json(card_path)
    card["model"] = "<script>alert(1)</script>"
    write_json(card, tmp_path / "export" / "evil" / "model_card.json")
    paths = [root / "export" / name / "model_card.json" for name in ("cnn", "kmer_logreg")]
    entries = card_entries(paths + [tmp_path / "export" / "evil" / "model_card.json"], root / "report" / "index.html")
    html = environment().get_template("_model_cards.html.j2").render(model_cards=entries)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="../export/cnn/model.pt"' in html and 'href="../export/kmer_logreg/model_card.md"' in html
    assert exported["cards"]["cnn"]["files"]["model.pt"]["sha256"] in html


@pytest.mark.workflow
def test_demo_exports_reload_and_match_the_evaluated_predictions(demo_run, tmp_path):
    import yaml

    results = demo_run / "results" / "demo"
    config = yaml.safe_load((demo_run / "config" / "config.yaml").read_text())
    names = sorted(config["models"]) + sorted(config["baselines"])
    tokens = np.load(results / "encoded" / "tokens.npy")
    labels, split = read_tsv(results / "labels.tsv"), read_tsv(results / "split.tsv")
    test = tokens[(split["split"] == "test").to_numpy()]
    ids = labels["id"][(split["split"] == "test").to_numpy()].tolist()
    folders = [results / "export" / name for name in names]
    out = fresh_process(folders, test, tmp_path)
    html = (results / "report" / "index.html").read_text()
    assert "Model cards" in html
    for name, folder in zip(names, folders):
        card = read_json(folder / "model_card.json")
        predictions = read_tsv(results / "eval" / name / "predictions.tsv").set_index("id").loc[ids]
        expected = predictions[[f"p_{c}" for c in card["classes"]]].to_numpy()  # rounded to 6 decimals
        assert np.abs(np.array(out[str(folder)]["probs"]) - expected).max() < 1e-5, name
        metrics = read_json(results / "eval" / name / "metrics.json")
        assert card["metrics"]["values"]["auroc"] == {"value": metrics["auroc"], "ci95": metrics["ci"]["auroc"]}
        assert f'href="../export/{name}/model.pt"' in html
    # the card's own usage snippet runs as written, in the export folder, without genomedl
    snippet = read_json(folders[0] / "model_card.json")["usage"]["python"]
    check = (
        f"{snippet}\nimport sys\nassert 'genomedl' not in sys.modules\n"
        "assert probabilities.shape == (1, 2) and abs(float(probabilities.sum()) - 1) < 1e-6"
    )
    done = subprocess.run([sys.executable, "-I", "-c", check], cwd=folders[0], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
