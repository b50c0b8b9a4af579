if "demo_data" in config:

    rule demo_data:
        output:
            demo_outputs(config["demo_data"]),
        log:
            "logs/demo_data.log",
        conda:
            "../../envs/genomedl.yaml"
        params:
            settings=as_json(config["demo_data"]),
        shell:
            "genomedl demo-data --settings {params.settings:q} > {log} 2>&1"


rule fetch:
    input:
        local=source_files,
    output:
        records=path("raw", "records.gb.gz"),
        manifest=path("raw", "manifest.tsv"),
        genes=path("raw", "genes.json"),
    log:
        "logs/{dataset}/fetch.log",
    benchmark:
        path("benchmarks", "fetch.tsv")
    conda:
        "../../envs/genomedl.yaml"
    resources:
        ncbi_connections=1,  # a global resource (see profiles): one fetch job talks to NCBI at a time
    params:
        settings=lambda w: as_json(PLAN.fetch_settings[w.dataset]),
    shell:
        "genomedl fetch --settings {params.settings:q}"
        " --records {output.records} --manifest {output.manifest} --genes {output.genes} > {log} 2>&1"
