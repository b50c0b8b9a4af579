import json
import os
import re
import sys
import time

from snakemake.utils import min_version

from genomedl.choices import KMER_STRIDES
from genomedl.config import resolve, validate_config
from genomedl.config.files import check_input_files
from genomedl.config.resolve import EXTRACT_PART_FILES, demo_outputs
from genomedl.errors import GenomedlError
from genomedl.paths import index_page, path
from genomedl.runlog import data_warnings, failed_lines, print_at_exit

min_version("9.0")


# datasets, models (a model entry that lists several values becomes one model per combination, named like
# cnn__lr-0.001), exports and predictions of the validated config: genomedl.config.resolve; an input file it names
# that is not there stops the run here, by its config key (not as a missing input of some rule)
try:
    PLAN = resolve(validate_config(config))
    check_input_files(config)
except GenomedlError as exc:
    sys.exit(f"genomedl: error: {exc}")

if config["ncbi"].get("api_key"):
    # handed to fetch jobs through the environment, never on a command line or in a log
    os.environ.update(NCBI_API_KEY=config["ncbi"]["api_key"])

for notice in PLAN.notices:
    print(notice, file=sys.stderr)

# logs written after this belong to this run (onsuccess/onerror in the Snakefile)
RUN_STARTED = time.time()
DATASETS = PLAN.datasets
MODELS = PLAN.neural
BASELINES = PLAN.baselines
MODEL_NAMES = PLAN.model_names
EXPORTED = PLAN.exported
INTERPRETED = PLAN.interpreted


def one_of(names):
    """Regex matching exactly one of ``names`` (nothing when the list is empty)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


wildcard_constraints:
    dataset=one_of(DATASETS),
    model=one_of(MODEL_NAMES),


def dataset_split(wildcards):
    return PLAN.split_file(wildcards.dataset)


# what the model stages read of a dataset: tokens [N, L], their meta, labels and split (the qc stage's
# under split.dedupe near)
DATASET_FILES = dict(
    tokens=path("encoded", "tokens.npy"),
    meta=path("encoded", "meta.json"),
    labels=path("dataset", "labels.tsv"),
    split=dataset_split,
)
# the quality gate (qc.smk) that every training job waits for: a fail stops the workflow before training
QC_FILE = path("qc", "qc.json")


def dataset_config(wildcards):
    return config["datasets"][wildcards.dataset]


def source_files(wildcards):
    """The local files a dataset's source reads (GenBank files, reference FASTA + annotation, labelled files):
    fetch records their provenance, so it waits for the demo_data rule when that writes them.
    """
    source = dataset_config(wildcards)["source"]
    reference = source.get("reference") or {}
    return (
        source.get("local", [])
        + [reference[k] for k in ("fasta", "annotation") if k in reference]
        + source.get("labelled", [])
    )


def taxon_arg(dataset):
    """``--taxon <group>`` of a dataset whose source names its JASPAR group, else nothing."""
    taxon = config["datasets"][dataset]["source"].get("taxon")
    return f"--taxon {taxon}" if taxon else ""


def as_json(value):
    return json.dumps(value, sort_keys=True)


def figure(path, caption, category, label=None, subcategory="{model}"):
    """``path`` in `snakemake --report`, captioned by workflow/report/<caption>.rst; labelled by dataset,
    model (when ``path`` has one) and figure (``label``)."""
    labels = {"dataset": "{dataset}"}
    if "{model}" in path:
        labels["model"] = "{model}"
    if label:
        labels["figure"] = label
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory=subcategory,
        labels=labels,
    )


def extract_inputs(wildcards):
    """The extract stage's inputs; a scattered reference's also every extract_part job's files (known once the
    extract_groups checkpoint has read the .fai)."""
    files = dict(PLAN.extract_inputs[wildcards.dataset])
    if wildcards.dataset in PLAN.scattered:
        groups = checkpoints.extract_groups.get(dataset=wildcards.dataset).output.groups
        with open(groups) as handle:
            parts = range(len(json.load(handle)))
        files["parts"] = [
            path("part", name, dataset=wildcards.dataset, part=i)
            for i in parts
            for name in EXTRACT_PART_FILES
        ]
    return files


def reference_files(wildcards):
    """The indexed reference FASTA and the annotation that the extract_part jobs read."""
    reference = PLAN.extract_settings[wildcards.dataset]["source"]["reference"]
    return {
        "fasta": reference["fasta"],
        "fai": reference["fasta"] + ".fai",
        "annotation": reference["annotation"],
    }


def model_file(wildcards):
    return PLAN.model_file(wildcards.dataset, wildcards.model)


def pretrained_encoder(wildcards):
    """The pretrain stage's folder for a BERT model on 'encoder: pretrain'; published models are loaded by name."""
    return PLAN.pretrained_encoder(wildcards.dataset, wildcards.model)


def fold_inputs(wildcards):
    """What training a model on fold {fold} of a kfold dataset reads (ensemble.smk)."""
    return PLAN.fold_inputs(wildcards.dataset, wildcards.model, int(wildcards.fold))


def gan_classifier(wildcards):
    return PLAN.classifier_input(wildcards.dataset)


def lm_report_inputs(wildcards):
    return PLAN.lm_report_files(wildcards.dataset)


def predict_inputs(wildcards):
    return PLAN.predict_files(wildcards.dataset, wildcards.model, wildcards.query)


def predict_args(wildcards, input):
    return PLAN.predict_args(
        wildcards.dataset, wildcards.query, input.data, input.get("reference")
    )


def predict_targets(wildcards):
    return PLAN.predict_targets(wildcards.dataset)


def predict_resources():
    """Like train's (cluster.smk), but one GPU (prediction runs on one device) and none for k-mer baselines."""
    on_cpu = lambda w: w.model in BASELINES
    return gpu_resources() | dict(
        gpu=lambda w: 0 if on_cpu(w) else 1,
        gpu_model=lambda w: "" if on_cpu(w) else config["cluster"]["gpu_model"],
    )
