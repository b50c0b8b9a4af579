# WGAN-GP per class: generated FASTA and quality against held-out real windows.
# Helpers (gan_classifier) live in common.smk.


rule gan:
    input:
        unpack(gan_classifier),
        **DATASET_FILES,
        qc=QC_FILE,
    output:
        fasta=path("gan", "generated.fa"),
        quality=path("gan", "quality.json"),
        history=path("gan", "history.tsv"),
        weights=path("gan", "generator.pt"),
    log:
        "logs/{dataset}/gan/{label}.log",
    benchmark:
        path("benchmarks", "gan/{label}.tsv")
    wildcard_constraints:
        label=one_of(PLAN.gan_classes),
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        settings=as_json(PLAN.gan or {}),
        seed=config["seed"],
        out_dir=subpath(output.quality, parent=True),
        classifier=lambda w, input: (
            f"--classifier {input.classifier}" if "classifier" in input.keys() else ""
        ),
    shell:
        "genomedl gan --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --label {wildcards.label} --out-dir {params.out_dir}"
        " --settings {params.settings:q} --seed {params.seed} {params.classifier} > {log} 2>&1"
