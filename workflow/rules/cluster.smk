# Where jobs run on a cluster (see profiles/slurm/config.yaml and README "Running on a SLURM cluster").


# tiny steps and the steps that need the network run on the submit (login) node
localrules:
    all,
    demo_data,
    fetch,


def model_gpus(wildcards):
    """GPUs for one job: models.<name>.gpus for model jobs, else cluster.gpus."""
    model = PLAN.models.get(wildcards.get("model"), {})
    return int(model.get("gpus", config["cluster"]["gpus"]))


def gpu_resources():
    """Resources of GPU rules: GPU count and model; one task per GPU so DDP gets one rank each."""
    return dict(
        gpu=model_gpus,
        gpu_model=config["cluster"]["gpu_model"],
        tasks_per_gpu=1,
        cpus_per_gpu=config["cluster"]["cpus_per_gpu"],
        mem_mb=lambda w, attempt: config["cluster"]["gpu_mem_mb"] * attempt,
        runtime=lambda w, attempt: config["cluster"]["gpu_runtime"] * attempt,
    )
