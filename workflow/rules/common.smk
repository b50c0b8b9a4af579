import json
import os
import re
import sys

from snakemake.utils import min_version

from genomedl.config import validate_config
from genomedl.errors import GenomedlError

min_version("9.0")


try:
    validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
except GenomedlError as exc:
    sys.exit(f"genomedl: error: {exc}")

# --- hyperparameter sweeps (issue 7) ---------------------------------------------------
# A model entry that lists several values becomes one model per combination, named like
# cnn__lr-0.001; each is its own train job (SLURM runs them in parallel).
from genomedl.models.sweep import expand_sweeps

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
