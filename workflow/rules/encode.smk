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
        "../../envs/genomedl.yaml"
    shell:
        "genomedl encode --fasta {input.fasta} --labels {input.labels}"
        " --tokens {output.tokens} --meta {output.meta} > {log} 2>&1"


# k-mer ids for models that embed k-mers: request encoded/kmer{k}_{stride}.npy, stride one of choices.KMER_STRIDES
rule kmers:
    input:
        tokens="results/{dataset}/encoded/tokens.npy",
    output:
        ids="results/{dataset}/encoded/kmer{k}_{stride}.npy",
        vocab="results/{dataset}/encoded/kmer{k}_{stride}.vocab.json",
    log:
        "logs/{dataset}/kmers/kmer{k}_{stride}.log",
    benchmark:
        "results/{dataset}/benchmarks/kmers/kmer{k}_{stride}.tsv"
    wildcard_constraints:
        k="[3-6]",
        stride=one_of(KMER_STRIDES),
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl kmers --tokens {input.tokens} --k {wildcards.k} --stride {wildcards.stride}"
        " --out {output.ids} --vocab {output.vocab} > {log} 2>&1"
