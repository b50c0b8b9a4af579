# BERT masked-LM pretraining on the train split (+ extra FASTA), and clusters of its embeddings.
# Helpers (lm_report_inputs) live in common.smk.


rule pretrain:
    input:
        tokens=path("encoded", "tokens.npy"),
        split=dataset_split,  # only the train split is read
        qc=QC_FILE,
        extra=PLAN.pretrain["extra_fasta"],
    output:
        encoder=directory(path("pretrain", "encoder")),
        history=path("pretrain", "history.tsv"),
        run=path("pretrain", "run.json"),
    log:
        "logs/{dataset}/pretrain.log",
    benchmark:
        path("benchmarks", "pretrain.tsv")
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        settings=as_json(PLAN.pretrain),
        seed=config["seed"],
        out_dir=subpath(output.run, parent=True),
    shell:
        "genomedl pretrain --tokens {input.tokens} --split {input.split} --out-dir {params.out_dir}"
        " --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"


rule embed:
    input:
        **DATASET_FILES,
        encoder=path("pretrain", "encoder"),
    output:
        path("embeddings", "clusters.json"),
    log:
        "logs/{dataset}/embed.log",
    benchmark:
        path("benchmarks", "embed.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        seed=config["seed"],
    shell:
        "genomedl embed --encoder {input.encoder} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --out {output} --seed {params.seed} > {log} 2>&1"
