rule split:
    input:
        labels="results/{dataset}/labels.tsv",
    output:
        split="results/{dataset}/split.tsv",
        summary="results/{dataset}/split_summary.json",
    log:
        "logs/{dataset}/split.log",
    benchmark:
        "results/{dataset}/benchmarks/split.tsv"
    conda:
        "../../envs/bio.yaml"
    params:
        val=lambda w: dataset_config(w)["split"]["val"],
        test=lambda w: dataset_config(w)["split"]["test"],
        group_by=lambda w: dataset_config(w)["split"]["group_by"],
        seed=config["seed"],
    shell:
        "genomedl split --labels {input.labels} --split {output.split} --summary {output.summary}"
        " --val {params.val} --test {params.test} --group-by {params.group_by} --seed {params.seed}"
        " > {log} 2>&1"
