"""Language models: device tokenizer vs encode.kmers, whole-k-mer masking, pretraining on the train split only,
fine-tuning own and published encoders offline, embeddings and cluster purity."""

from __future__ import annotations

import os
import re

os.environ["HF_HUB_OFFLINE"] = "1"  # never touch the network (read when huggingface_hub is first imported)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from genomedl.encoding.kmers import MASK, UNK, kmer_tokens  # noqa: E402
from genomedl.encoding.masking import IGNORE, whole_kmer_mask  # noqa: E402
from genomedl.encoding.tokenizer import kmer_ids, save_tokenizer, vocab  # noqa: E402
from genomedl.errors import GenomedlError  # noqa: E402
from helpers import files

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("k", [3, 4, 5, 6])
@pytest.mark.parametrize("overlapping", [True, False])
def test_device_tokenizer_equals_encode_kmers(k, overlapping):
    tokens = RNG.integers(0, 5, size=(6, 37), dtype=np.uint8)
    np.testing.assert_array_equal(
        kmer_ids(torch.from_numpy(tokens), k, overlapping).numpy(), kmer_tokens(tokens, k, overlapping)
    )


def test_single_nucleotide_tokens():
    tokens = torch.tensor([[0, 1, 2, 3, 4]], dtype=torch.uint8)
    ids = kmer_ids(tokens, 1, True)
    assert ids.tolist() == [[2, 5, 6, 7, 8, UNK, 3]]
    assert [vocab(1)[i] for i in ids[0, 1:5]] == list("ACGT")


def test_saved_tokenizer_is_a_hugging_face_bert_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    save_tokenizer(tmp_path, 4, True, 30)
    hf = AutoTokenizer.from_pretrained(str(tmp_path))
    tokens = RNG.integers(0, 4, size=(1, 30), dtype=np.uint8)
    text = "".join("ACGT"[t] for t in tokens[0])
    words = " ".join(text[i : i + 4] for i in range(27))  # DNABERT-style space-separated k-mers
    assert hf(words)["input_ids"] == kmer_ids(torch.from_numpy(tokens), 4, True).tolist()[0]


@pytest.mark.parametrize("span", [1, 3, 6])
def test_whole_kmer_masking_spans_rate_and_labels(span):
    generator = torch.Generator().manual_seed(0)
    ids = kmer_ids(
        torch.from_numpy(RNG.integers(0, 4, size=(200, 103), dtype=np.uint8)), 3 if span == 1 else span, True
    )
    inputs, labels, masked = whole_kmer_mask(ids, span, 0.15, vocab_size=69, generator=generator)
    assert not masked[:, 0].any() and not masked[:, -1].any()  # CLS and SEP never masked
    assert masked.any(1).all()
    assert 0.11 < masked[:, 1:-1].float().mean() < 0.19
    assert torch.equal(labels[masked], ids[masked]) and (labels[~masked] == IGNORE).all()
    assert torch.equal(inputs[~masked], ids[~masked])
    assert 0.7 < (inputs[masked] == MASK).float().mean() < 0.9
    # every run of masked tokens is a whole span unless cut by the sequence end, so with overlapping
    # k-mers at least one base of the run is hidden in every token that covers it
    for row in masked[:, 1:-1].int().numpy():
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row, [0]])))
        starts, ends = edges[0::2], edges[1::2]
        interior = ends < len(row)
        assert ((ends - starts)[interior] >= span).all()


def write_fasta(path, records):
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in records))
    return str(path)


@pytest.fixture(scope="module")
def lm_data(tmp_path_factory):
    """Periodic windows (a random 6-mer repeated) with labels and a 60/20/20 split; val/test rows are all T."""
    folder = tmp_path_factory.mktemp("lm")
    n, length = 480, 36
    motifs = RNG.integers(0, 4, size=(n, 6), dtype=np.uint8)
    tokens = np.tile(motifs, length // 6)
    labels = np.where(motifs[:, 0] < 2, "AC", "GT")
    split = np.array(["train", "train", "train", "val", "test"] * (n // 5))
    tokens[split != "train"] = 3
    np.save(folder / "tokens.npy", tokens)
    ids = [f"w{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": labels}).to_csv(folder / "labels.tsv", sep="\t", index=False)
    pd.DataFrame({"id": ids, "split": split}).to_csv(folder / "split.tsv", sep="\t", index=False)
    (folder / "meta.json").write_text('{"classes": ["AC", "GT"], "length": 36}')
    return {
        name: folder / f"{name}.{ext}"
        for name, ext in (("tokens", "npy"), ("labels", "tsv"), ("split", "tsv"), ("meta", "json"))
    }


PRETRAIN = {
    "k": 3,
    "hidden": 32,
    "layers": 1,
    "heads": 2,
    "intermediate": 64,
    "epochs": 10,
    "batch_size": 16,
    "lr": 0.005,
    "dropout": 0.0,
    "holdout": 0.2,
}


@pytest.fixture(scope="module")
def pretrained(lm_data, tmp_path_factory):
    from genomedl.stages.pretrain import run_pretrain

    out = tmp_path_factory.mktemp("pretrain")
    extra = write_fasta(out / "extra.fa", [("r1", "ACGTACGTAC" * 11), ("r2", "N" * 40), ("r3", "GATTACA" * 6)])
    run = run_pretrain(
        lm_data["tokens"], lm_data["split"], out, {**PRETRAIN, "extra_fasta": [extra]}, 3, log=lambda *_: None
    )
    return out, run


def test_pretraining_reads_the_train_split_and_extra_fasta_only_and_learns(pretrained):
    from genomedl.tables import read_tsv

    out, run = pretrained
    # 288 train rows; extra FASTA: 110 bp -> 3 windows, 40 N -> dropped, 42 bp -> 1 window
    assert run["windows"] == {"train_split": 288, "extra_fasta": 4, "held_out": 58}
    history = read_tsv(out / "history.tsv")
    assert list(history["epoch"]) == list(range(1, 11))
    assert history["val_mlm_loss"].iloc[-1] < history["val_mlm_loss"].iloc[0] - 0.2
    assert history["val_mlm_acc"].iloc[-1] > 3 * run["majority_token_accuracy"]


def test_pretraining_leaves_deterministic_algorithms_off(pretrained):
    assert not torch.are_deterministic_algorithms_enabled()  # Lightning turned them on for the CPU run only


def test_pretraining_never_sees_val_or_test_windows(lm_data):
    from genomedl.stages import pretrain

    windows, n_train, n_extra = pretrain.pretraining_set(lm_data["tokens"], lm_data["split"], [], 0.1)
    assert (n_train, n_extra) == (288, 0)
    assert not (windows == 3).all(1).any()  # the all-T val/test windows are absent


def test_encoder_folder_is_saved_with_save_pretrained(pretrained):
    from transformers import BertForMaskedLM

    out, _ = pretrained
    model = BertForMaskedLM.from_pretrained(str(out / "encoder"))
    assert model.config.vocab_size == len(vocab(3)) and model.config.max_position_embeddings == 36
    assert not list(out.glob(".encoder.*"))  # no temporary folder left behind


def test_finetune_starts_from_the_pretrained_weights_and_scratch_does_not(pretrained):
    from transformers import BertForMaskedLM

    from genomedl.models import build_model

    encoder = str(pretrained[0] / "encoder")
    saved = BertForMaskedLM.from_pretrained(encoder).bert.embeddings.word_embeddings.weight
    tuned = build_model("bert", length=36, n_classes=2, encoder=encoder)
    scratch = build_model("bert", length=36, n_classes=2, encoder=encoder, from_scratch=True)
    torch.testing.assert_close(tuned.net.bert.embeddings.word_embeddings.weight, saved)
    assert not torch.allclose(scratch.net.bert.embeddings.word_embeddings.weight, saved)
    with pytest.raises(GenomedlError, match="pretrained on 36 bp windows"):
        build_model("bert", length=80, n_classes=2, encoder=encoder)


def test_finetune_through_the_engine_and_reload(pretrained, lm_data, tmp_path):
    from genomedl.inference import load_model, predict_proba
    from genomedl.stages.finetune import run_finetune

    settings = {"arch": "bert", "encoder": "pretrain", "epochs": 2, "batch_size": 32, "lr": 0.001}
    run = run_finetune(
        files(lm_data), tmp_path, "bert", settings, 1, encoder=pretrained[0] / "encoder", log=lambda *_: None
    )
    assert run["settings"]["encoder"] == str(pretrained[0] / "encoder")
    model, payload = load_model(tmp_path / "model.ckpt")
    tokens = np.load(lm_data["tokens"])[:8]
    module_probs = predict_proba(model, tokens)
    assert payload["arch"] == "bert" and module_probs.shape == (8, 2)
    np.testing.assert_allclose(predict_proba(load_model(tmp_path / "model.ckpt")[0], tokens), module_probs)
    with pytest.raises(GenomedlError, match="models.bert.encoder"):
        run_finetune(files(lm_data), tmp_path, "bert", settings, 1)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A tiny DNABERT-2-like model: BPE tokenizer trained on DNA + BERT encoder, saved as a hub model would be."""
    from tokenizers import Tokenizer, models, trainers
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("published")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    corpus = ["".join(RNG.choice(list("ACGT"), 60)) for _ in range(200)]
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=60, special_tokens=specials))
    roles = ("pad", "unk", "cls", "sep", "mask")  # in the order of ``specials``
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, **{f"{r}_token": s for r, s in zip(roles, specials)})
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertForMaskedLM(config).save_pretrained(str(folder))
    return folder


def test_published_model_from_a_local_folder_offline(published, lm_data, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    from genomedl.inference import load_model, predict_proba
    from genomedl.models.bert import as_text
    from genomedl.stages.train import run_train

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    tokens = torch.from_numpy(np.load(lm_data["tokens"])[:4])
    assert as_text(tokens)[0] == "".join("ACGTN"[t] for t in tokens[0].tolist())
    settings = {"arch": "bert", "encoder": str(published), "epochs": 1, "batch_size": 32, "lr": 0.001}
    run_train(files(lm_data), tmp_path, "dnabert2", settings, 1, log=lambda *_: None)
    model, _ = load_model(tmp_path / "model.ckpt")
    expected = AutoTokenizer.from_pretrained(str(published))(as_text(tokens), padding=True, return_tensors="pt")
    with torch.no_grad():
        direct = model.net(input_ids=expected["input_ids"], attention_mask=expected["attention_mask"]).logits
        torch.testing.assert_close(model(tokens), direct)
    assert predict_proba(model, tokens.numpy()).shape == (4, 2)


def test_unreachable_hub_model_names_the_key_and_the_offline_recipe(monkeypatch):
    from genomedl.models import build_model

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(GenomedlError, match="models.<name>.encoder.*huggingface-cli download no-such-org/no-model"):
        build_model("bert", length=36, n_classes=2, encoder="no-such-org/no-model")


def test_cluster_purity():
    from genomedl.stages.embed import cluster_view, purity

    labels = np.array([0, 0, 0, 1, 1, 1])
    assert purity(labels, np.array([0, 0, 1, 1, 1, 1])) == pytest.approx(5 / 6)
    assert purity(labels, np.array([1, 1, 1, 0, 0, 0])) == 1.0
    features = np.concatenate([RNG.normal(0, 0.1, (30, 4)), RNG.normal(3, 0.1, (30, 4))])
    view = cluster_view(features, np.repeat([0, 1], 30), 2, 0)
    assert view["purity"] == 1.0 and view["adjusted_rand"] == 1.0 and len(view["points"]["x"]) == 60


def test_embed_clusters_the_test_split(pretrained, lm_data, tmp_path):
    from genomedl.stages.embed import run_embed

    result = run_embed(pretrained[0] / "encoder", files(lm_data), tmp_path / "clusters.json", 0, log=lambda *_: None)
    assert result["n"] == 96 and set(result["views"]) == {"bert_encoder", "kmer4_spectrum"}
    for view in result["views"].values():
        assert result["majority_fraction"] - 1e-9 <= view["purity"] <= 1.0


def test_report_section_shows_pretraining_finetuning_and_clusters(pretrained, lm_data, tmp_path):
    from genomedl.reporting.lm_section import finetune_rows, render_section
    from genomedl.stages.embed import run_embed

    run_embed(
        pretrained[0] / "encoder", files(lm_data), tmp_path / "embeddings" / "clusters.json", 0, log=lambda *_: None
    )
    runs = {
        "b1": {"arch": "bert", "settings": {"encoder": "enc", "from_scratch": True}, "best_epoch": 2},
        "b0": {"arch": "bert", "settings": {"encoder": "enc"}, "best_epoch": 3},
        "cnn": {"arch": "cnn", "settings": {}},
    }
    evals = {
        name: {"auroc": auroc, "auprc": 0.5, "mcc": 0.1, "balanced_accuracy": 0.6}
        for name, auroc in (("b0", 0.91), ("b1", 0.72), ("cnn", 0.8))
    }
    rows = finetune_rows(runs, evals)
    assert [(r["model"], r["init"], r["auroc"]) for r in rows] == [
        ("b0", "pretrained", 0.91),
        ("b1", "from scratch", 0.72),
    ]
    html = str(render_section([pretrained[0] / "history.tsv", tmp_path / "embeddings" / "clusters.json"], runs, evals))
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)  # figure bytes may spell anything
    assert "BERT pretraining" in text and "Unsupervised view" in text and "GAN" not in text
    assert html.count("data:image/png;base64,") == 2 and "0.910" in html and "kmer4_spectrum" in html


def test_bert_attention_maps_for_interpretation(pretrained):
    from genomedl.models import build_model

    model = build_model("bert", length=36, n_classes=2, encoder=str(pretrained[0] / "encoder")).eval()
    tokens = torch.randint(0, 4, (3, 36), dtype=torch.uint8)
    maps = model.attention_maps(tokens)
    assert maps.shape[0] == 3 and maps.shape[2] == maps.shape[3]
    torch.testing.assert_close(maps.sum(-1), torch.ones(maps.shape[:3]))  # each query's weights sum to 1
    before = model(tokens)
    torch.testing.assert_close(model(tokens), before)  # the fused path is restored afterwards


def test_published_tokenizer_runs_once_before_training(published, lm_data, monkeypatch):
    from genomedl.models import build_model
    from genomedl.models.layers import reverse_complement_tokens

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    windows = np.load(lm_data["tokens"])[:16]
    length = windows.shape[1]
    model = build_model("bert", length=length, n_classes=2, encoder=str(published)).eval()
    tokens = torch.from_numpy(windows[:6])
    with torch.no_grad():
        expected = [model(tokens), model(reverse_complement_tokens(tokens))]
    model.pretokenize(windows)

    def no_tokenizer(*args, **kwargs):
        raise AssertionError("tokenized during training")

    tokenizer, model.text_tokenizer = model.text_tokenizer, no_tokenizer
    with torch.no_grad():  # both strands looked up; padding to the longest window leaves the logits unchanged
        torch.testing.assert_close(model(tokens), expected[0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(model(reverse_complement_tokens(tokens)), expected[1], rtol=1e-4, atol=1e-5)
    model.text_tokenizer = tokenizer
    unseen = torch.full((2, length), 4, dtype=torch.uint8)  # rows not seen before are tokenized as before
    assert model(unseen).shape == (2, 2)
