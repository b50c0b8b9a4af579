rule report:
    input:
        manifest="results/{dataset}/raw/manifest.tsv",
        extract_summary="results/{dataset}/extract_summary.json",
        split_summary="results/{dataset}/split_summary.json",
        runs=expand("results/{{dataset}}/models/{model}/run.json", model=MODEL_NAMES),
        metrics=expand(
            "results/{{dataset}}/eval/{model}/metrics.json", model=MODEL_NAMES
        ),
    output:
        report(
            "results/{dataset}/report/index.html",
            caption="../report/index.rst",
            category="Reports",
            labels={"dataset": "{dataset}"},
        ),
    log:
        "logs/{dataset}/report.log",
    benchmark:
        "results/{dataset}/benchmarks/report.tsv"
    conda:
        "../../envs/bio.yaml"
    params:
        model_dirs=lambda w, input: [os.path.dirname(p) for p in input.runs],
        eval_dirs=lambda w, input: [os.path.dirname(p) for p in input.metrics],
    shell:
        "genomedl report --dataset {wildcards.dataset} --manifest {input.manifest}"
        " --extract-summary {input.extract_summary} --split-summary {input.split_summary}"
        " --model-dirs {params.model_dirs} --eval-dirs {params.eval_dirs} --out {output} > {log} 2>&1"
