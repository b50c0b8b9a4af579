# Hyperparameter search (models.<name>.search, genomedl.stages.search): trial t's parameters are asked of Optuna's
# seeded TPE sampler told the trials of the earlier batches (search.parallel trials per batch), each trial is an
# ordinary train job, and search_pick writes the study (an Optuna journal file), trials.tsv and best.json and
# makes the best trial on validation AUROC the model itself (results/{dataset}/models/{model}/).

SEARCHED = sorted({m for models in PLAN.searched.values() for m in models})


localrules:
    search_suggest,
    search_pick,


rule search_suggest:
    input:
        trials=lambda w: PLAN.search_trials(w.dataset, w.model, int(w.trial)),
    output:
        path("trial", "params.json"),
    log:
        "logs/{dataset}/search/{model}/suggest{trial}.log",
    wildcard_constraints:
        model=one_of(SEARCHED),
        trial=r"\d+",
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(PLAN.models[w.model]),
        seed=config["seed"],
    shell:
        "genomedl search-suggest --out {output} --name {wildcards.model} --trial {wildcards.trial}"
        " --trials {input.trials} --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"


rule train_trial:
    input:
        unpack(pretrained_encoder),
        **DATASET_FILES,
        qc=QC_FILE,
        params=path("trial", "params.json"),
    output:
        value=path("trial", "value.json"),
        model=directory(path("trial", "model")),
    log:
        "logs/{dataset}/search/{model}/trial{trial}.log",
    benchmark:
        path("benchmarks", "search/{model}/trial{trial}.tsv")
    wildcard_constraints:
        model=one_of(SEARCHED),
        trial=r"\d+",
    conda:
        "../../envs/genomedl.yaml"
    threads: 2
    resources:
        **gpu_resources(),
    params:
        settings=lambda w: PLAN.entry_settings(w.dataset, w.model),
        seed=config["seed"],
    shell:
        "genomedl search-trial --params {input.params} --tokens {input.tokens} --meta {input.meta}"
        " --labels {input.labels} --split {input.split} --qc {input.qc} --out-dir {output.model} --value {output.value}"
        " --name {wildcards.model} --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"


rule search_pick:
    input:
        trials=lambda w: PLAN.search_trials(w.dataset, w.model),
        models=lambda w: [
            os.path.join(os.path.dirname(t), "model")
            for t in PLAN.search_trials(w.dataset, w.model)
        ],
    output:
        trials=path("search", "trials.tsv"),
        best=path("search", "best.json"),
        study=path("search", "study.journal"),
        settings=path("search", "settings.json"),
        model=path("model", "model.ckpt"),
        history=path("model", "history.tsv"),
        run=path("model", "run.json"),
    log:
        "logs/{dataset}/search/{model}/pick.log",
    wildcard_constraints:
        model=one_of(SEARCHED),
    conda:
        "../../envs/genomedl.yaml"
    params:
        out_dir=lambda w, output: os.path.dirname(output.best),
        model_dir=lambda w, output: os.path.dirname(output.model),
        settings=lambda w: as_json(PLAN.models[w.model]),
        seed=config["seed"],
    shell:
        "genomedl search-pick --trials {input.trials} --out-dir {params.out_dir} --model-dir {params.model_dir}"
        " --name {wildcards.model} --settings {params.settings:q} --seed {params.seed} > {log} 2>&1"


ruleorder: search_pick > finetune > train
