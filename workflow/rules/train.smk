rule train:
    input:
        **DATASET_FILES,
        qc=QC_FILE,
    output:
        model=path("model", "model.ckpt"),
        history=path("model", "history.tsv"),
        run=path("model", "run.json"),
    log:
        "logs/{dataset}/train/{model}.log",
    benchmark:
        path("benchmarks", "train/{model}.tsv")
    wildcard_constraints:
        model=one_of(MODELS),
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        stage="train",
        settings=lambda w: as_json(PLAN.models[w.model]),
        seed=config["seed"],
        out_dir=subpath(output.run, parent=True),
    shell:
        "genomedl {params.stage} --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --qc {input.qc} --out-dir {params.out_dir} --name {wildcards.model}"
        " --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"
