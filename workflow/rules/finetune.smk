# Fine-tuning of BERT-style encoders (arch bert): this dataset's pretrained encoder or a published one.
# Helpers (pretrained_encoder) live in common.smk.


rule finetune:
    input:
        unpack(pretrained_encoder),
        **DATASET_FILES,
    output:
        model="results/{dataset}/models/{model}/model.ckpt",
        history="results/{dataset}/models/{model}/history.tsv",
        run="results/{dataset}/models/{model}/run.json",
    log:
        "logs/{dataset}/finetune/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/finetune/{model}.tsv"
    wildcard_constraints:
        model=one_of(PLAN.bert),
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        settings=lambda w: as_json(PLAN.models[w.model]),
        encoder=lambda w, input: PLAN.encoder_arg(w.model, input.get("encoder")),
        seed=config["seed"],
        out_dir=subpath(output.run, parent=True),
    shell:
        "genomedl finetune --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --out-dir {params.out_dir} --name {wildcards.model}"
        " --settings {params.settings:q} --encoder {params.encoder:q} --seed {params.seed} > {log} 2>&1"


ruleorder: finetune > train
