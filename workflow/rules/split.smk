rule split:
    input:
        labels=path("dataset", "labels.tsv"),
        tokens=path("encoded", "tokens.npy"),
    output:
        split=path("dataset", "split.tsv"),
        summary=path("dataset", "split_summary.json"),
    log:
        "logs/{dataset}/split.log",
    benchmark:
        path("benchmarks", "split.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(dataset_config(w)["split"]),
        seed=config["seed"],
        fold="",
    shell:
        "genomedl split --labels {input.labels} --tokens {input.tokens} --split {output.split}"
        " --summary {output.summary} --settings {params.settings:q} --seed {params.seed}"
        "{params.fold} > {log} 2>&1"


# k-fold cross-validation (split.strategy: kfold): fold i of split.k; fold 0 is also split.tsv
use rule split as split_fold with:
    output:
        split=path("fold_split", "split.tsv"),
        summary=path("fold_split", "split_summary.json"),
    log:
        "logs/{dataset}/split/fold{fold}.log",
    benchmark:
        path("benchmarks", "split/fold{fold}.tsv")
    wildcard_constraints:
        fold=r"\d+",
    params:
        fold=lambda w: f" --fold {w.fold}",
