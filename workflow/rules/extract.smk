rule extract:
    input:
        records="results/{dataset}/raw/records.gb.gz",
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
        task=lambda w: dataset_config(w)["task"],
        window=lambda w: as_json(dataset_config(w)["window"]),
    shell:
        "genomedl extract --records {input.records} --task {params.task} --window {params.window:q}"
        " --fasta {output.fasta} --labels {output.labels} --summary {output.summary} > {log} 2>&1"
