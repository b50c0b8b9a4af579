INTERPRETED = [
    m
    for m in MODELS
    if config["interpret"]["enabled"]
    and (config["interpret"]["models"] is None or m in config["interpret"]["models"])
]


rule interpret:
    input:
        model="results/{dataset}/models/{model}/model.ckpt",
        run="results/{dataset}/models/{model}/run.json",
        tokens="results/{dataset}/encoded/tokens.npy",
        meta="results/{dataset}/encoded/meta.json",
        labels="results/{dataset}/labels.tsv",
        split="results/{dataset}/split.tsv",
    output:
        attributions="results/{dataset}/interpret/{model}/attributions.npz",
        summary="results/{dataset}/interpret/{model}/interpretation.json",
        meme="results/{dataset}/interpret/{model}/motifs.meme",
        table=report(
            "results/{dataset}/interpret/{model}/motifs.tsv",
            caption="../report/motifs_table.rst",
            category="Interpretation",
            subcategory="{model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "motif table",
            },
        ),
        logos=report(
            "results/{dataset}/interpret/{model}/attributions.png",
            caption="../report/attributions.rst",
            category="Interpretation",
            subcategory="{model}",
            labels={
                "dataset": "{dataset}",
                "model": "{model}",
                "figure": "attributions",
            },
        ),
        motifs=report(
            "results/{dataset}/interpret/{model}/motifs.png",
            caption="../report/motifs.rst",
            category="Interpretation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "motifs"},
        ),
        filters=report(
            "results/{dataset}/interpret/{model}/filters.png",
            caption="../report/filters.rst",
            category="Interpretation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "filters"},
        ),
        attention=report(
            "results/{dataset}/interpret/{model}/attention.png",
            caption="../report/attention.rst",
            category="Interpretation",
            subcategory="{model}",
            labels={"dataset": "{dataset}", "model": "{model}", "figure": "attention"},
        ),
    log:
        "logs/{dataset}/interpret/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/interpret/{model}.tsv"
    wildcard_constraints:
        model=one_of(INTERPRETED),
    conda:
        "../../envs/ml.yaml"
    threads: 2
    params:
        model_dir=subpath(input.run, parent=True),
        out_dir=subpath(output.summary, parent=True),
        settings=as_json(config["interpret"]),
        seed=config["seed"],
    shell:
        "genomedl interpret --model-dir {params.model_dir} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --out-dir {params.out_dir}"
        " --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"
