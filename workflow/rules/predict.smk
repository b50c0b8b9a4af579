# Predictions on new sequences, genome regions and variants (datasets.<name>.predict; docs/predict.md);
# the helpers live in common.smk.


rule reference_records:
    input:
        "results/{dataset}/raw/records.gb.gz",
    output:
        fasta="results/{dataset}/reference/records.fa.gz",
        fai="results/{dataset}/reference/records.fa.gz.fai",
        gzi="results/{dataset}/reference/records.fa.gz.gzi",
    log:
        "logs/{dataset}/reference_records.log",
    benchmark:
        "results/{dataset}/benchmarks/reference_records.tsv"
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl reference-fasta --records {input} --out {output.fasta} > {log} 2>&1"


rule predict:
    input:
        unpack(predict_inputs),
    output:
        windows="results/{dataset}/predict/{model}/{query}/windows.tsv",
        tracks=directory("results/{dataset}/predict/{model}/{query}/tracks"),
        summary="results/{dataset}/predict/{model}/{query}/summary.json",
    log:
        "logs/{dataset}/predict/{model}/{query}.log",
    benchmark:
        "results/{dataset}/benchmarks/predict/{model}/{query}.tsv"
    wildcard_constraints:
        query=one_of(PLAN.region_queries),
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **predict_resources(),
    params:
        args=predict_args,
        model_dir=lambda w, input: os.path.dirname(input.run),
        out_dir=subpath(output.summary, parent=True),
    shell:
        "genomedl predict --model-dir {params.model_dir} --out-dir {params.out_dir}"
        " {params.args} > {log} 2>&1"


use rule predict as predict_variants with:
    output:
        table="results/{dataset}/predict/{model}/{query}/variants.tsv",
        vcf="results/{dataset}/predict/{model}/{query}/variants.vcf.gz",
        tbi="results/{dataset}/predict/{model}/{query}/variants.vcf.gz.tbi",
        effects="results/{dataset}/predict/{model}/{query}/effects.png",
        summary="results/{dataset}/predict/{model}/{query}/summary.json",
    wildcard_constraints:
        query=one_of(PLAN.variant_queries),
