rule encode:
    input:
        fasta="results/{dataset}/sequences.fa.gz",
        labels="results/{dataset}/labels.tsv",
    output:
        tokens="results/{dataset}/encoded/tokens.npy",
        meta="results/{dataset}/encoded/meta.json",
    log:
        "logs/{dataset}/encode.log",
    benchmark:
        "results/{dataset}/benchmarks/encode.tsv"
    conda:
        "../../envs/bio.yaml"
    shell:
        "genomedl encode --fasta {input.fasta} --labels {input.labels}"
        " --tokens {output.tokens} --meta {output.meta} > {log} 2>&1"
