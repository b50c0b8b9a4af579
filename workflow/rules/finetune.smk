# Fine-tuning of BERT-style encoders (arch bert): this dataset's pretrained encoder or a published one.
# Helpers (BERT_MODELS, finetune_encoder) live in common.smk.


rule finetune:
    input:
        unpack(finetune_encoder),
        tokens="results/{dataset}/encoded/tokens.npy",
        meta="results/{dataset}/encoded/meta.json",
        labels="results/{dataset}/labels.tsv",
        split="results/{dataset}/split.tsv",
    output:
        model="results/{dataset}/models/{model}/model.ckpt",
        history="results/{dataset}/models/{model}/history.tsv",
        run="results/{dataset}/models/{model}/run.json",
    log:
        "logs/{dataset}/finetune/{model}.log",
    benchmark:
        "results/{dataset}/benchmarks/finetune/{model}.tsv"
    wildcard_constraints:
        model=one_of(BERT_MODELS),
    conda:
        "../../envs/ml.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        settings=lambda w: as_json(config["models"][w.model]),
        encoder=lambda w, input: (
            input.encoder
            if "encoder" in input.keys()
            else config["models"][w.model].get("encoder", "")
        ),
        seed=config["seed"],
        out_dir=subpath(output.run, parent=True),
    shell:
        "genomedl finetune --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --out-dir {params.out_dir} --name {wildcards.model}"
        " --settings {params.settings:q} --encoder {params.encoder:q} --seed {params.seed} > {log} 2>&1"


ruleorder: finetune > train
