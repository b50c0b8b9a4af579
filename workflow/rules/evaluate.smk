rule evaluate:
    input:
        **DATASET_FILES,
        model=model_file,
        run=path("model", "run.json"),
        qc=QC_FILE,
    output:
        predictions=path("eval", "predictions.tsv"),
        metrics=path("eval", "metrics.json"),
        table=figure(
            path("eval", "metrics.tsv"),
            "metrics",
            "Evaluation",
            label="metrics",
        ),
        roc_pr=figure(
            path("eval", "roc_pr.png"),
            "roc_pr",
            "Evaluation",
            label="ROC / PR",
        ),
        calibration=figure(
            path("eval", "calibration.png"),
            "calibration",
            "Evaluation",
            label="calibration",
        ),
        confusion=figure(
            path("eval", "confusion.png"),
            "confusion",
            "Evaluation",
            label="confusion",
        ),
    log:
        "logs/{dataset}/evaluate/{model}.log",
    benchmark:
        path("benchmarks", "evaluate/{model}.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        model_dir=subpath(input.run, parent=True),
        out_dir=subpath(output.metrics, parent=True),
        bootstrap=config["evaluate"]["bootstrap"],
        seed=config["seed"],
    shell:
        "genomedl evaluate --model-dir {params.model_dir} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --qc {input.qc} --out-dir {params.out_dir}"
        " --bootstrap {params.bootstrap} --seed {params.seed} > {log} 2>&1"


rule plot_training:
    input:
        history=path("model", "history.tsv"),
        run=path("model", "run.json"),
    output:
        figure(
            path("model", "training.png"),
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
