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


def model_file(wildcards):
    kind = "model.npz" if wildcards.model in BASELINES else "model.ckpt"
    return f"results/{wildcards.dataset}/models/{wildcards.model}/{kind}"
