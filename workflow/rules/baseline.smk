rule baseline:
    input:
        **DATASET_FILES,
        qc=QC_FILE,
    output:
        model=path("model", "model.npz"),
        run=path("model", "run.json"),
    log:
        "logs/{dataset}/baseline/{model}.log",
    benchmark:
        path("benchmarks", "baseline/{model}.tsv")
    wildcard_constraints:
        model=one_of(BASELINES),
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(config["baselines"][w.model]),
        seed=config["seed"],
        out_dir=subpath(output.run, parent=True),
    shell:
        "genomedl baseline --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --out-dir {params.out_dir} --name {wildcards.model}"
        " --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"
