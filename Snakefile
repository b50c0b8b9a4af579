# genomedl: public genomic records -> trained, evaluated and explained deep learning models.
# Run: snakemake --profile profiles/local   (or --profile profiles/slurm on a cluster)


import sys

from genomedl.config.files import read_config_file
from genomedl.errors import GenomedlError

# `--configfile other.yaml` replaces the default config instead of merging into it; Snakemake reads that file
# itself, before this line (its errors are Snakemake's own: README.md). The default is read here first, so that a
# YAML error names its line.
if not config:
    try:
        read_config_file("config/config.yaml")
    except GenomedlError as exc:
        sys.exit(f"genomedl: error: {exc}")

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/cluster.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/split.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/baseline.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/interpret.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/ensemble.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        expand(path("report", "index.html"), dataset=DATASETS),
        expand(
            path("export", "model.pt"),
            dataset=DATASETS,
            model=EXPORTED,
        ),
        index_page() if len(DATASETS) > 1 else [],
        expand(
            path("evaluation", "ensemble.json"),
            dataset=PLAN.ensemble_datasets,
        ),


# at the end of a run: the warnings of finished jobs that changed the data, and a failed job's genomedl line
# as the last thing on the console (genomedl.runlog)
onsuccess:
    warned = data_warnings("logs", RUN_STARTED)
    if warned:
        print(
            f"genomedl: {len(warned)} warning(s) of finished jobs (data skipped, dropped, padded or repaired):",
            *warned,
            sep="\n",
            file=sys.stderr,
        )


onerror:
    print_at_exit(failed_lines(log, "logs", RUN_STARTED))
