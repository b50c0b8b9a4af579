rule evaluate:
    input:
        model=model_file,
        run="results/{dataset}/models/{model}/run.json",
        tokens="results/{dataset}/encoded/tokens.npy",
        meta="results/{dataset}/encoded/meta.json",
        labels="results/{dataset}/labels.tsv",
        split="results/{dataset}/split.tsv",
    output:
        predictions="results/{dataset}/eval/{model}/predictions.tsv",
        metrics="results/{dataset}/eval/{model}/metrics.json",
        table=report(
            "results/{dataset}/eval/{model}/metrics.tsv",
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "metrics"},
        ),
        roc_pr=report(
            "results/{dataset}/eval/{model}/roc_pr.png",
            caption="../report/roc_pr.rst",
            category="Evaluation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "ROC / PR"},
        ),
        calibration=report(
            "results/{dataset}/eval/{model}/calibration.png",
            caption="../report/calibration.rst",
            category="Evaluation",
            subcategory="{model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "calibration",
            },
        ),
        confusion=report(
            "results/{dataset}/eval/{model}/confusion.png",
            caption="../report/confusion.rst",
            category="Evaluation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "confusion"},
        ),
    log:
        "logs/{dataset}/evaluate/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/evaluate/{model}.tsv"
    conda:
        "../../envs/ml.yaml"
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
        report(
            "results/{dataset}/models/{model}/training.png",
            caption="../report/training.rst",
            category="Training",
            labels={"dataset": "{dataset}", "model": "{model}"},
        ),
    log:
        "logs/{dataset}/plot_training/{model}.log",
    wildcard_constraints:
        model=one_of(MODELS),
    conda:
        "../../envs/bio.yaml"
    shell:
        "genomedl plot-training --history {input.history} --run {input.run} --out {output} > {log} 2>&1"
