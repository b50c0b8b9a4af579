rule evaluate:
    input:
        **DATASET_FILES,
        model=model_file,
        run="results/{dataset}/models/{model}/run.json",
    output:
        predictions="results/{dataset}/eval/{model}/predictions.tsv",
        metrics="results/{dataset}/eval/{model}/metrics.json",
        table=figure(
            "results/{dataset}/eval/{model}/metrics.tsv",
            "metrics",
            "Evaluation",
            label="metrics",
        ),
        roc_pr=figure(
            "results/{dataset}/eval/{model}/roc_pr.png",
            "roc_pr",
            "Evaluation",
            label="ROC / PR",
        ),
        calibration=figure(
            "results/{dataset}/eval/{model}/calibration.png",
            "calibration",
            "Evaluation",
            label="calibration",
        ),
        confusion=figure(
            "results/{dataset}/eval/{model}/confusion.png",
            "confusion",
            "Evaluation",
            label="confusion",
        ),
    log:
        "logs/{dataset}/evaluate/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/evaluate/{model}.tsv"
    conda:
        "../../envs/genomedl.yaml"
    params:
        model_dir=subpath(input.run, parent=True),
        out_dir=subpath(output.metrics, parent=True),
        bootstrap=config["evaluate"]["bootstrap"],
        seed=config["seed"],
    shell:
        "genomedl evaluate --model-dir {params.model_dir} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --out-dir {params.out_dir}"
        " --bootstrap {params.bootstrap} --seed {params.seed} > {log} 2>&1"


rule plot_training:
    input:
        history="results/{dataset}/models/{model}/history.tsv",
        run="results/{dataset}/models/{model}/run.json",
    output:
        figure(
            "results/{dataset}/models/{model}/training.png",
            "training",
            "Training",
            subcategory=None,
        ),
    log:
        "logs/{dataset}/plot_training/{model}.log",
    wildcard_constraints:
        model=one_of(MODELS),
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl plot-training --history {input.history} --run {input.run} --out {output} > {log} 2>&1"
