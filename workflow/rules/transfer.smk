# cross-dataset evaluation (datasets.<name>.evaluate_on): a dataset's models and baselines scored on other
# datasets' windows, beside their own test split (genomedl.stages.transfer)


rule transfer:
    input:
        unpack(lambda w: PLAN.transfer_files(w.dataset)),
    output:
        path("evaluation", "transfer.json"),
    log:
        "logs/{dataset}/transfer.log",
    benchmark:
        path("benchmarks", "transfer.tsv")
    wildcard_constraints:
        dataset=one_of(PLAN.transfer_datasets),
    conda:
        "../../envs/genomedl.yaml"
    params:
        args=lambda w: PLAN.transfer_args(w.dataset),
        bootstrap=config["evaluate"]["bootstrap"],
        seed=config["seed"],
    shell:
        "genomedl transfer --dataset {wildcards.dataset} {params.args} --out {output}"
        " --bootstrap {params.bootstrap} --seed {params.seed} > {log} 2>&1"
