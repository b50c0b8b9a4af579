rule interpret:
    input:
        **DATASET_FILES,
        model="results/{dataset}/models/{model}/model.ckpt",
        run="results/{dataset}/models/{model}/run.json",
    output:
        attributions="results/{dataset}/interpret/{model}/attributions.npz",
        summary="results/{dataset}/interpret/{model}/interpretation.json",
        meme="results/{dataset}/interpret/{model}/motifs.meme",
        table=figure(
            "results/{dataset}/interpret/{model}/motifs.tsv",
            "motifs_table",
            "Interpretation",
            label="motif table",
        ),
        logos=figure(
            "results/{dataset}/interpret/{model}/attributions.png",
            "attributions",
            "Interpretation",
            label="attributions",
        ),
        motifs=figure(
            "results/{dataset}/interpret/{model}/motifs.png",
            "motifs",
            "Interpretation",
            label="motifs",
        ),
        filters=figure(
            "results/{dataset}/interpret/{model}/filters.png",
            "filters",
            "Interpretation",
            label="filters",
        ),
        attention=figure(
            "results/{dataset}/interpret/{model}/attention.png",
            "attention",
            "Interpretation",
            label="attention",
        ),
    log:
        "logs/{dataset}/interpret/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/interpret/{model}.tsv"
    wildcard_constraints:
        model=one_of(INTERPRETED),
    conda:
        "../../envs/genomedl.yaml"
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
