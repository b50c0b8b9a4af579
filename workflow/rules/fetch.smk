if "demo_data" in config:

    rule demo_data:
        output:
            expand(
                "{out_dir}/{file}",
                out_dir=config["demo_data"]["out_dir"],
                file=config["demo_data"]["files"],
            ),
        log:
            "logs/demo_data.log",
        conda:
            "../../envs/genomedl.yaml"
        params:
            version=config["demo_data"]["version"],
            sha256=config["demo_data"]["sha256"],
            files=config["demo_data"]["files"],
        shell:
            "genomedl demo-data --version {params.version} --sha256 {params.sha256}"
            " --members {params.files} --outputs {output} > {log} 2>&1"


rule fetch:
    input:
        local=lambda w: dataset_config(w)["source"].get("local", []),
    output:
        records="results/{dataset}/raw/records.gb.gz",
        manifest="results/{dataset}/raw/manifest.tsv",
        genes="results/{dataset}/raw/genes.json",
    log:
        "logs/{dataset}/fetch.log",
    benchmark:
        "results/{dataset}/benchmarks/fetch.tsv"
    conda:
        "../../envs/genomedl.yaml"
    resources:
        ncbi_connections=1,  # a global resource (see profiles): one fetch job talks to NCBI at a time
    params:
        settings=lambda w: as_json(PLAN.fetch_settings[w.dataset]),
    shell:
        "genomedl fetch --settings {params.settings:q}"
        " --records {output.records} --manifest {output.manifest} --genes {output.genes} > {log} 2>&1"
