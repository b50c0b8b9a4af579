rule interpret:
    input:
        **DATASET_FILES,
        model=path("model", "model.ckpt"),
        run=path("model", "run.json"),
        manifest=path("raw", "manifest.tsv"),
    output:
        attributions=path("interpret", "attributions.npz"),
        summary=path("interpret", "interpretation.json"),
        meme=path("interpret", "motifs.meme"),
        table=figure(
            path("interpret", "motifs.tsv"),
            "motifs_table",
            "Interpretation",
            label="motif table",
        ),
        logos=figure(
            path("interpret", "attributions.png"),
            "attributions",
            "Interpretation",
            label="attributions",
        ),
        motifs=figure(
            path("interpret", "motifs.png"),
            "motifs",
            "Interpretation",
            label="motifs",
        ),
        filters=figure(
            path("interpret", "filters.png"),
            "filters",
            "Interpretation",
            label="filters",
        ),
        attention=figure(
            path("interpret", "attention.png"),
            "attention",
            "Interpretation",
            label="attention",
        ),
    log:
        "logs/{dataset}/interpret/{model}.log",
    benchmark:
        path("benchmarks", "interpret/{model}.tsv")
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
        taxon=lambda wildcards: taxon_arg(wildcards.dataset),
    shell:
        "genomedl interpret --model-dir {params.model_dir} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --out-dir {params.out_dir} --manifest {input.manifest}"
        " {params.taxon} --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"
