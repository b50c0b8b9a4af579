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
        "../../envs/genomedl.yaml"
    params:
        records=lambda w, input: (
            f"--records {input.records}" if "records" in input.keys() else ""
        ),
        settings=lambda w: as_json(PLAN.extract_settings[w.dataset]),
        seed=config["seed"],
    shell:
        "genomedl extract {params.records} --settings {params.settings:q} --seed {params.seed}"
        " --fasta {output.fasta} --labels {output.labels} --summary {output.summary} > {log} 2>&1"
