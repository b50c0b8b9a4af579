import json
import os
import re
import sys

from snakemake.utils import min_version

from genomedl.config import validate_config
from genomedl.errors import GenomedlError

min_version("9.0")


try:
    validate_config(config)
except GenomedlError as exc:
    sys.exit(f"genomedl: error: {exc}")

# --- hyperparameter sweeps (issue 7) ---------------------------------------------------
# A model entry that lists several values becomes one model per combination, named like
# cnn__lr-0.001; each is its own train job (SLURM runs them in parallel).
from genomedl.config.sweep import expand_sweeps

try:
    config["models"] = expand_sweeps(config["models"])
except GenomedlError as exc:
    sys.exit(f"genomedl: error: {exc}")
# --- end of hyperparameter sweeps ------------------------------------------------------

if config["ncbi"].get("api_key"):
    # handed to fetch jobs through the environment, never on a command line or in a log
    os.environ.update(NCBI_API_KEY=config["ncbi"]["api_key"])

DATASETS = sorted(config["datasets"])
MODELS = sorted(config["models"])
BASELINES = sorted(config["baselines"])
MODEL_NAMES = MODELS + BASELINES
overlap = set(MODELS) & set(BASELINES)
if overlap:
    sys.exit(
        f"genomedl: error: config keys models and baselines both name {sorted(overlap)}; rename one"
    )


def one_of(names):
    """Regex matching exactly one of ``names`` (nothing when the list is empty)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


wildcard_constraints:
    dataset=one_of(DATASETS),
    model=one_of(MODEL_NAMES),


def dataset_config(wildcards):
    return config["datasets"][wildcards.dataset]


def as_json(value):
    return json.dumps(value, sort_keys=True)


def extract_inputs(wildcards):
    """GenBank sources read fetch's records; reference and labelled sources their own files."""
    source = dataset_config(wildcards)["source"]
    if source.get("reference"):
        return {
            "fasta": source["reference"]["fasta"],
            "annotation": source["reference"]["annotation"],
        }
    if source.get("labelled"):
        return {"labelled": source["labelled"]}
    return {"records": f"results/{wildcards.dataset}/raw/records.gb.gz"}


def model_file(wildcards):
    kind = "model.npz" if wildcards.model in BASELINES else "model.ckpt"
    return f"results/{wildcards.dataset}/models/{wildcards.model}/{kind}"


# --- language models and GANs (pretrain.smk, finetune.smk, gan.smk) ---
BERT_MODELS = sorted(m for m, s in config["models"].items() if s.get("arch") == "bert")
PRETRAIN = config.get("pretrain", {})
USES_PRETRAIN = "pretrain" in config or any(
    config["models"][m].get("encoder") == "pretrain" for m in BERT_MODELS
)
GAN = config.get("gan")
GAN_CLASSES = GAN["classes"] if GAN else []


def finetune_encoder(wildcards):
    """The pretrain stage's folder for 'encoder: pretrain'; published models are loaded by name."""
    if config["models"][wildcards.model].get("encoder") == "pretrain":
        return {"encoder": f"results/{wildcards.dataset}/pretrain/encoder"}
    return {}


def gan_classifier(wildcards):
    """model.ckpt of gan.classifier (default: the first non-bert model), or nothing."""
    name = GAN.get("classifier") or next(
        (m for m in MODELS if config["models"][m].get("arch") != "bert"), None
    )
    if name is None:
        return {}
    return {"classifier": f"results/{wildcards.dataset}/models/{name}/model.ckpt"}


def lm_report_inputs(wildcards):
    """Pretraining history, embedding clusters and GAN quality files that the report shows."""
    files = []
    if USES_PRETRAIN:
        files.append(f"results/{wildcards.dataset}/pretrain/history.tsv")
        if PRETRAIN.get("clusters", True):
            files.append(f"results/{wildcards.dataset}/embeddings/clusters.json")
    files += [
        f"results/{wildcards.dataset}/gan/{label}/quality.json" for label in GAN_CLASSES
    ]
    return files


# --- predictions and variant effects (predict.smk; docs/predict.md) ---
PREDICT_KINDS = ("fasta", "csv", "bed", "vcf")


def predict_config(dataset):
    return config["datasets"][dataset].get("predict") or {"inputs": {}}


def predict_kind(spec):
    return next(k for k in PREDICT_KINDS if k in spec)


SWEEP_MEMBERS = {}  # swept model entry -> the models its sweep made
for _model in MODELS:
    _group = (config["models"][_model].get("sweep") or {}).get("group")
    if _group:
        SWEEP_MEMBERS.setdefault(_group, []).append(_model)


def predict_models(dataset):
    """datasets.<name>.predict.models (a swept entry stands for every model of its sweep), or every neural model."""
    named = predict_config(dataset).get("models")
    if named is None:
        return MODELS
    return [model for name in named for model in SWEEP_MEMBERS.get(name, [name])]


PREDICT_QUERIES = {}  # input name -> kind, over all datasets
for _dataset in DATASETS:
    for _model in predict_models(_dataset):
        if _model not in MODEL_NAMES:
            sys.exit(
                f"genomedl: error: config key datasets.{_dataset}.predict.models: {_model!r} is not an entry "
                f"of models or baselines ({', '.join(MODEL_NAMES)})"
            )
    for _name, _spec in predict_config(_dataset)["inputs"].items():
        if sum(k in _spec for k in PREDICT_KINDS) != 1:
            sys.exit(
                f"genomedl: error: config key datasets.{_dataset}.predict.inputs.{_name}: give exactly one "
                f"of {', '.join(PREDICT_KINDS)}"
            )
        _kind = predict_kind(_spec)
        if PREDICT_QUERIES.setdefault(_name, _kind) != _kind:
            sys.exit(
                f"genomedl: error: config key datasets.{_dataset}.predict.inputs.{_name}: another dataset "
                "has an input of that name of another kind; rename one"
            )


def queries_of(*kinds):
    return [name for name, kind in PREDICT_QUERIES.items() if kind in kinds]


def predict_spec(wildcards):
    return predict_config(wildcards.dataset)["inputs"][wildcards.query]


def predict_inputs(wildcards):
    """Model, its run.json, the input file and (BED, VCF) the indexed reference."""
    spec = predict_spec(wildcards)
    files = {
        "model": model_file(wildcards),
        "run": f"results/{wildcards.dataset}/models/{wildcards.model}/run.json",
        "data": spec[predict_kind(spec)],
    }
    if "reference" in spec:
        reference = spec["reference"]
        if reference == "records":
            reference = f"results/{wildcards.dataset}/reference/records.fa.gz"
        files.update(reference=reference, fai=f"{reference}.fai")
    return files


def predict_args(wildcards, input):
    """--<kind> FILE [--reference FASTA] and the dataset's predict settings."""
    settings = predict_config(wildcards.dataset)
    args = [f"--{predict_kind(predict_spec(wildcards))} {input.data}"]
    if "reference" in input.keys():
        args.append(f"--reference {input.reference}")
    if settings.get("stride"):
        args.append(f"--stride {settings['stride']}")
    args += [
        f"--batch-size {settings['batch_size']} --strands {settings['strands']}",
        f"--max-allele {settings['max_allele']} --top {settings['top']}",
    ]
    return " ".join(args)


def predict_resources():
    """Like train's (cluster.smk), but one GPU (prediction runs on one device) and none for k-mer baselines."""
    on_cpu = lambda w: w.model in BASELINES
    return gpu_resources() | dict(
        gpu=lambda w: 0 if on_cpu(w) else 1,
        gpu_model=lambda w: "" if on_cpu(w) else config["cluster"]["gpu_model"],
    )


def predict_targets(wildcards):
    """summary.json of every (model, input) pair of the dataset (the report shows them)."""
    return [
        f"results/{wildcards.dataset}/predict/{model}/{query}/summary.json"
        for model in predict_models(wildcards.dataset)
        for query in predict_config(wildcards.dataset)["inputs"]
    ]


# --- export (export.smk) ---


def exportable(name):
    """Baselines and neural models on genomedl's tokens (BERT: encoder 'pretrain' or a genomedl folder)."""
    encoder = config["models"].get(name, {}).get("encoder")
    return (
        name not in BERT_MODELS
        or encoder == "pretrain"
        or os.path.isfile(os.path.join(str(encoder), "genomedl_tokenizer.json"))
    )


EXPORTED = [m for m in MODEL_NAMES if exportable(m)]


def export_encoder(wildcards):
    """The pretrain stage's encoder folder of a BERT model (load_model rebuilds the model from it)."""
    return finetune_encoder(wildcards) if wildcards.model in BERT_MODELS else {}
