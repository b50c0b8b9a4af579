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
    log:
        "logs/{dataset}/evaluate/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/evaluate/{model}.tsv"
    conda:
        "../../envs/ml.yaml"
    params:
        model_dir=subpath(input.run, parent=True),
        out_dir=subpath(output.metrics, parent=True),
    shell:
        "genomedl evaluate --model-dir {params.model_dir} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --out-dir {params.out_dir} > {log} 2>&1"
