# Dataset quality gate between split and training (genomedl.stages.qc): shortcut probes, near-duplicate
# leakage on either strand, class balance and the strand verdict that rc_augment auto follows. Every
# training job reads qc.json, so a fail stops the workflow before any training. qc/split.tsv is the split
# the model stages read under split.dedupe near.


rule qc:
    input:
        tokens=path("encoded", "tokens.npy"),
        labels=path("dataset", "labels.tsv"),
        split=path("dataset", "split.tsv"),
        split_summary=path("dataset", "split_summary.json"),
    output:
        qc=path("qc", "qc.json"),
        split=path("qc", "split.tsv"),
    log:
        "logs/{dataset}/qc.log",
    benchmark:
        path("benchmarks", "qc.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(dataset_config(w)["qc"]),
        split=lambda w: as_json(dataset_config(w)["split"]),
        seed=config["seed"],
        task=lambda w: dataset_config(w)["task"],
    shell:
        "genomedl qc --dataset {wildcards.dataset} --tokens {input.tokens} --labels {input.labels}"
        " --split {input.split} --split-summary {input.split_summary} --out {output.qc}"
        " --split-out {output.split} --split-settings {params.split:q} --settings {params.settings:q}"
        " --task {params.task} --seed {params.seed} > {log} 2>&1"
