rule extract:
    input:
        unpack(extract_inputs),
    output:
        fasta="results/{dataset}/sequences.fa.gz",
        fai="results/{dataset}/sequences.fa.gz.fai",
        gzi="results/{dataset}/sequences.fa.gz.gzi",
        labels="results/{dataset}/labels.tsv",
        summary="results/{dataset}/extract_summary.json",
    log:
        "logs/{dataset}/extract.log",
    benchmark:
        "results/{dataset}/benchmarks/extract.tsv"
    conda:
        "../../envs/bio.yaml"
    params:
        records=lambda w, input: (
            f"--records {input.records}" if "records" in input.keys() else ""
        ),
        source=lambda w: as_json(dataset_config(w)["source"]),
        task=lambda w: dataset_config(w)["task"],
        window=lambda w: as_json(dataset_config(w)["window"]),
        options=lambda w: as_json(dataset_config(w)["task_options"]),
        seed=config["seed"],
    shell:
        "genomedl extract {params.records} --source {params.source:q} --task {params.task}"
        " --window {params.window:q} --options {params.options:q} --seed {params.seed}"
        " --fasta {output.fasta} --labels {output.labels} --summary {output.summary} > {log} 2>&1"
