# Export (issue 12): every trained model as a TorchScript program + safetensors weights + model card.
# BERT models on a published encoder's own text tokenizer cannot be carried by TorchScript: not exported.

# Helpers (EXPORTED, pretrained_encoder) live in common.smk.


rule export:
    input:
        unpack(pretrained_encoder),
        model=model_file,
        run=path("model", "run.json"),
        metrics=path("eval", "metrics.json"),
        tokens=path("encoded", "tokens.npy"),
        manifest=path("raw", "manifest.tsv"),
        extract_summary=path("dataset", "extract_summary.json"),
        split_summary=path("dataset", "split_summary.json"),
    output:
        program=path("export", "model.pt"),
        weights=path("export", "model.safetensors"),
        config=path("export", "config.json"),
        card=path("export", "model_card.json"),
        card_md=path("export", "model_card.md"),
    log:
        "logs/{dataset}/export/{model}.log",
    benchmark:
        path("benchmarks", "export/{model}.tsv")
    wildcard_constraints:
        model=one_of(EXPORTED),
    conda:
        "../../envs/genomedl.yaml"
    params:
        model_dir=subpath(input.run, parent=True),
        eval_dir=subpath(input.metrics, parent=True),
        out_dir=subpath(output.card, parent=True),
        dataset_settings=lambda w: as_json(config["datasets"][w.dataset]),
    shell:
        "genomedl export --model-dir {params.model_dir} --eval-dir {params.eval_dir} --tokens {input.tokens}"
        " --manifest {input.manifest} --extract-summary {input.extract_summary}"
        " --split-summary {input.split_summary} --out-dir {params.out_dir} --dataset {wildcards.dataset}"
        " --dataset-settings {params.dataset_settings:q} > {log} 2>&1"
