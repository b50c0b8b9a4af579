rule extract:
    input:
        unpack(extract_inputs),
    output:
        fasta=path("dataset", "sequences.fa.gz"),
        fai=path("dataset", "sequences.fa.gz.fai"),
        gzi=path("dataset", "sequences.fa.gz.gzi"),
        labels=path("dataset", "labels.tsv"),
        summary=path("dataset", "extract_summary.json"),
    log:
        "logs/{dataset}/extract.log",
    benchmark:
        path("benchmarks", "extract.tsv")
    conda:
        "../../envs/genomedl.yaml"
    params:
        records=lambda w, input: (
            f"--records {input.records}" if "records" in input.keys() else ""
        ),
        parts=lambda w, input: (
            "--parts "
            + " ".join(
                os.path.dirname(p) for p in input.parts[:: len(EXTRACT_PART_FILES)]
            )
            if "parts" in input.keys()
            else ""
        ),
        settings=lambda w: as_json(PLAN.extract_settings[w.dataset]),
        seed=config["seed"],
    shell:
        "genomedl extract {params.records} {params.parts} --settings {params.settings:q} --seed {params.seed}"
        " --fasta {output.fasta} --labels {output.labels} --summary {output.summary} > {log} 2>&1"


# a reference FASTA with a .fai index: one job per group of sequences (source.reference.group_bp)
checkpoint extract_groups:
    input:
        unpack(reference_files),
    output:
        groups=path("parts", "groups.json"),
    log:
        "logs/{dataset}/extract_groups.log",
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(PLAN.extract_settings[w.dataset]),
    shell:
        "genomedl extract-groups --settings {params.settings:q} --groups {output.groups} > {log} 2>&1"


rule extract_part:
    input:
        unpack(reference_files),
    output:
        windows=temp(path("part", "windows.npy")),
        labels=temp(path("part", "labels.tsv")),
        summary=temp(path("part", "summary.json")),
    log:
        "logs/{dataset}/extract_part/{part}.log",
    benchmark:
        path("benchmarks", "extract_part/{part}.tsv")
    wildcard_constraints:
        part=r"\d+",
    conda:
        "../../envs/genomedl.yaml"
    params:
        settings=lambda w: as_json(PLAN.extract_settings[w.dataset]),
        seed=config["seed"],
    shell:
        "genomedl extract-part --part {wildcards.part} --settings {params.settings:q} --seed {params.seed}"
        " --windows {output.windows} --labels {output.labels} --summary {output.summary} > {log} 2>&1"
