rule encode:
    input:
        fasta=path("dataset", "sequences.fa.gz"),
        labels=path("dataset", "labels.tsv"),
    output:
        tokens=path("encoded", "tokens.npy"),
        meta=path("encoded", "meta.json"),
    log:
        "logs/{dataset}/encode.log",
    benchmark:
        path("benchmarks", "encode.tsv")
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl encode --fasta {input.fasta} --labels {input.labels}"
        " --tokens {output.tokens} --meta {output.meta} > {log} 2>&1"


# k-mer ids for models that embed k-mers: request encoded/kmer{k}_{stride}.npy, stride one of choices.KMER_STRIDES
rule kmers:
    input:
        tokens=path("encoded", "tokens.npy"),
    output:
        ids=path("encoded", "kmer{k}_{stride}.npy"),
        vocab=path("encoded", "kmer{k}_{stride}.vocab.json"),
    log:
        "logs/{dataset}/kmers/kmer{k}_{stride}.log",
    benchmark:
        path("benchmarks", "kmers/kmer{k}_{stride}.tsv")
    wildcard_constraints:
        k="[3-6]",
        stride=one_of(KMER_STRIDES),
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl kmers --tokens {input.tokens} --k {wildcards.k} --stride {wildcards.stride}"
        " --out {output.ids} --vocab {output.vocab} > {log} 2>&1"
