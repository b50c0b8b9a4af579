rule report:
    input:
        manifest=path("raw", "manifest.tsv"),
        extract_summary=path("dataset", "extract_summary.json"),
        split_summary=path("dataset", "split_summary.json"),
        tokens=path("encoded", "tokens.npy"),
        labels=path("dataset", "labels.tsv"),
        qc=QC_FILE,
        runs=expand(path("model", "run.json", dataset="{{dataset}}"), model=MODEL_NAMES),
        training=expand(
            path("model", "training.png", dataset="{{dataset}}"), model=MODELS
        ),
        metrics=expand(
            path("eval", "metrics.json", dataset="{{dataset}}"), model=MODEL_NAMES
        ),
        interpret=expand(
            path("interpret", "interpretation.json", dataset="{{dataset}}"),
            model=INTERPRETED,
        ),
        lm=lm_report_inputs,  # pretraining, clusters, GAN quality (common.smk)
        predict=predict_targets,  # predictions and variant effects (predict.smk)
        # model cards (export.smk)
        cards=expand(
            path("export", "model_card.json", dataset="{{dataset}}"), model=EXPORTED
        ),
        # the models on other datasets (transfer.smk), k-fold ensembles (ensemble.smk), searches (search.smk)
        transfer=lambda w: (
            [path("evaluation", "transfer.json", dataset=w.dataset)]
            if w.dataset in PLAN.transfer_datasets
            else []
        ),
        ensemble=lambda w: (
            [path("evaluation", "ensemble.json", dataset=w.dataset)]
            if w.dataset in PLAN.ensemble_datasets
            else []
        ),
        search=lambda w: [
            path("search", name, dataset=w.dataset, model=m)
            for m in PLAN.searched.get(w.dataset, ())
            for name in ("trials.tsv", "best.json")
        ],
    output:
        html=figure(
            path("report", "index.html"),
            "index",
            "Reports",
            subcategory=None,
        ),
        leaderboard=figure(
            path("report", "leaderboard.tsv"),
            "leaderboard",
            "Leaderboard",
            subcategory=None,
        ),
        overview=figure(
            path("report", "overview.png"),
            "overview",
            "Data",
            subcategory=None,
        ),
    log:
        "logs/{dataset}/report.log",
    benchmark:
        path("benchmarks", "report.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        model_dirs=lambda w, input: [os.path.dirname(p) for p in input.runs],
        eval_dirs=lambda w, input: [os.path.dirname(p) for p in input.metrics],
        interpret_dirs=lambda w, input: [os.path.dirname(p) for p in input.interpret],
        predict_dirs=lambda w, input: [os.path.dirname(p) for p in input.predict],
        search_dirs=lambda w, input: list(
            dict.fromkeys(os.path.dirname(p) for p in input.search)
        ),
        # the settings shown under "run information" (never the NCBI API key)
        run_config=lambda w: as_json(PLAN.run_information[w.dataset]),
        bootstrap=config["evaluate"]["bootstrap"],
        seed=config["seed"],
    shell:
        "genomedl report --dataset {wildcards.dataset} --manifest {input.manifest}"
        " --extract-summary {input.extract_summary} --split-summary {input.split_summary}"
        " --tokens {input.tokens} --labels {input.labels}"
        " --model-dirs {params.model_dirs} --eval-dirs {params.eval_dirs}"
        " --interpret-dirs {params.interpret_dirs} --run-config {params.run_config:q}"
        " --bootstrap {params.bootstrap} --seed {params.seed}"
        " --lm-files {input.lm} --predict-dirs {params.predict_dirs}"
        " --model-cards {input.cards} --qc {input.qc}"
        " --transfer {input.transfer} --ensemble {input.ensemble} --search-dirs {params.search_dirs}"
        " --out {output.html} --leaderboard {output.leaderboard} --overview {output.overview} > {log} 2>&1"


rule report_index:
    input:
        reports=expand(path("report", "index.html"), dataset=DATASETS),
        leaderboards=expand(path("report", "leaderboard.tsv"), dataset=DATASETS),
    output:
        index_page(),
    log:
        "logs/report_index.log",
    conda:
        "../../envs/genomedl.yaml"
    shell:
        "genomedl report-index --reports {input.reports} --leaderboards {input.leaderboards}"
        " --out {output} > {log} 2>&1"
