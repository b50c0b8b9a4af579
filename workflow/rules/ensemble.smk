# k-fold ensembles (split.strategy: kfold, genomedl.stages.ensemble): every model and baseline is also trained
# on folds 1...k-1 (fold 0, split.tsv, is the model itself); the ensemble stage scores each fold model and their
# mean on the one test split that all folds share. Fold f trains with seed + f.


use rule train as train_fold with:
    input:
        unpack(fold_inputs),
        qc=QC_FILE,
    output:
        model=path("fold", "model.ckpt"),
        history=path("fold", "history.tsv"),
        run=path("fold", "run.json"),
    log:
        "logs/{dataset}/train_fold/{model}/fold{fold}.log",
    benchmark:
        path("benchmarks", "train_fold/{model}/fold{fold}.tsv")
    wildcard_constraints:
        model=one_of(MODELS),
        fold=r"[1-9]\d*",
    resources:
        **gpu_resources(),
    params:
        stage=lambda w: "finetune" if w.model in PLAN.bert else "train",
        settings=lambda w: PLAN.training_settings(w.dataset, w.model),
        seed=lambda w: config["seed"] + int(w.fold),
        out_dir=lambda w, output: os.path.dirname(output.run),


use rule baseline as baseline_fold with:
    input:
        unpack(fold_inputs),
        qc=QC_FILE,
    output:
        model=path("fold", "model.npz"),
        run=path("fold", "run.json"),
    log:
        "logs/{dataset}/baseline_fold/{model}/fold{fold}.log",
    benchmark:
        path("benchmarks", "baseline_fold/{model}/fold{fold}.tsv")
    wildcard_constraints:
        model=one_of(BASELINES),
        fold=r"[1-9]\d*",
    params:
        settings=lambda w: as_json(config["baselines"][w.model]),
        seed=lambda w: config["seed"] + int(w.fold),
        out_dir=lambda w, output: os.path.dirname(output.run),


rule ensemble:
    input:
        **DATASET_FILES,
        models=lambda w: PLAN.ensemble_files(w.dataset),
    output:
        ensemble=path("evaluation", "ensemble.json"),
        predictions=directory(path("evaluation", "ensemble")),
    log:
        "logs/{dataset}/ensemble.log",
    benchmark:
        path("benchmarks", "ensemble.tsv")
    wildcard_constraints:
        dataset=one_of(PLAN.ensemble_datasets),
    conda:
        "../../envs/genomedl.yaml"
    params:
        models=lambda w: PLAN.ensemble_args(w.dataset),
        settings=as_json(config["evaluate"]),
        seed=config["seed"],
    shell:
        "genomedl ensemble --tokens {input.tokens} --meta {input.meta} --labels {input.labels}"
        " --split {input.split} --out {output.ensemble} --predictions-dir {output.predictions}"
        " {params.models} --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"
