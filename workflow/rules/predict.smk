# Predictions on new sequences, genome regions and variants (datasets.<name>.predict; docs/predict.md);
# the helpers live in common.smk.


rule reference_records:
    input:
        path("raw", "records.gb.gz"),
    output:
        fasta=path("reference", "records.fa.gz"),
        fai=path("reference", "records.fa.gz.fai"),
        gzi=path("reference", "records.fa.gz.gzi"),
    log:
        "logs/{dataset}/reference_records.log",
    benchmark:
        path("benchmarks", "reference_records.tsv")
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl reference-fasta --records {input} --out {output.fasta} > {log} 2>&1"


rule predict:
    input:
        unpack(predict_inputs),
    output:
        windows=path("predict", "windows.tsv"),
        tracks=directory(path("predict", "tracks")),
        summary=path("predict", "summary.json"),
    log:
        "logs/{dataset}/predict/{model}/{query}.log",
    benchmark:
        path("benchmarks", "predict/{model}/{query}.tsv")
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
        table=path("predict", "variants.tsv"),
        vcf=path("predict", "variants.vcf.gz"),
        tbi=path("predict", "variants.vcf.gz.tbi"),
        effects=path("predict", "effects.png"),
        summary=path("predict", "summary.json"),
    wildcard_constraints:
        query=one_of(PLAN.variant_queries),
