"""`snakemake --profile profiles/slurm` on a real single-node SLURM cluster (munge, slurmctld, slurmd,
slurmdbd + MariaDB, two fake GPUs), brought up by .ci/slurm-up.sh when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from genomedl.tables import read_json, read_tsv
from helpers import REPO, copy_workflow, lean_config, planned_jobs, snakemake

pytestmark = pytest.mark.workflow
SLURM_ARGS = (
    "--profile",
    "profiles/slurm",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--latency-wait",
    "5",
    "--retries",
    "0",
)


def cluster_is_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return done.returncode == 0 and ("idle" in done.stdout or "mix" in done.stdout)


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running cluster: the one already up, else one started here and stopped afterwards."""
    if cluster_is_up():
        yield
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("a SLURM cluster is not running and starting one needs root and apt-get (.ci/slurm-up.sh)")
    up = subprocess.run(["bash", str(REPO / ".ci" / "slurm-up.sh")], capture_output=True, text=True)
    if up.returncode != 0:
        pytest.skip(f".ci/slurm-up.sh failed: {(up.stdout + up.stderr)[-1500:]}")
    try:
        yield
    finally:
        subprocess.run(["bash", str(REPO / ".ci" / "slurm-down.sh")], capture_output=True)


def slurm_jobs(since: str) -> dict[str, dict]:
    """SLURM's own accounting records of the Snakemake jobs submitted since ``since`` (sacct -S)."""
    records = {}
    for _ in range(40):  # job records reach slurmdbd a moment after the jobs end
        done = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-S", since, "-o", "JobID,Comment,State,ReqTRES"],
            capture_output=True,
            text=True,
        )
        records = {
            row[0]: dict(zip(("comment", "state", "req"), row[1:]))
            for row in (line.split("|") for line in done.stdout.splitlines())
            if row[1].startswith("rule_")
        }
        if records and all(r["state"] not in ("PENDING", "RUNNING") for r in records.values()):
            break
        time.sleep(0.5)
    return records


def test_demo_runs_through_slurm(slurm_cluster, tmp_path, demo_run):
    workdir = lean_config(copy_workflow(tmp_path))
    # every stage up to the evaluation of both models (the report and exports are more CPU jobs alike)
    targets = [f"results/demo/eval/{model}/metrics.json" for model in ("cnn", "kmer_logreg")]
    planned = planned_jobs(workdir, *targets)
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    snakemake(workdir, *SLURM_ARGS, *targets, timeout=900)
    jobs = slurm_jobs(since)
    rules = [r["comment"].split("_wildcards_")[0].removeprefix("rule_") for r in jobs.values()]
    remote = {rule: n for rule, n in planned.items() if rule not in ("all", "demo_data", "fetch")}
    assert {rule: rules.count(rule) for rule in set(rules)} == remote
    for record in jobs.values():
        assert record["state"] == "COMPLETED", record
        asks_gpu = "gres/gpu" in record["req"]
        assert asks_gpu == record["comment"].startswith("rule_train"), record
    # local rules never reach SLURM, and the outputs match a local run of the same config
    assert not any("fetch" in r["comment"] or "demo_data" in r["comment"] for r in jobs.values())
    for name in ("split.tsv", "encoded/tokens.npy", "labels.tsv"):
        assert (workdir / "results/demo" / name).read_bytes() == (demo_run / "results/demo" / name).read_bytes()
    for model in ("cnn", "kmer_logreg"):
        ours = read_json(workdir / f"results/demo/eval/{model}/metrics.json")
        local = read_json(demo_run / f"results/demo/eval/{model}/metrics.json")
        assert ours["auroc"] == pytest.approx(local["auroc"], abs=1e-9) and ours["mcc"] == local["mcc"]


def test_scancel_mid_training_then_rerun_resumes(slurm_cluster, tmp_path):
    workdir = lean_config(copy_workflow(tmp_path))
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["datasets"]["demo"]["window"]["stride"] = 25  # enough windows for epochs of a few seconds
    config["models"] = {"cnn": {**config["models"]["cnn"], "epochs": 5, "patience": 5}}
    config["baselines"] = {}
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/demo/models/cnn/model.ckpt"
    # the data stages run locally (the test above sends them through SLURM); training goes to SLURM
    snakemake(workdir, "--profile", "profiles/local", "results/demo/split.tsv")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", *SLURM_ARGS, target],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    last = workdir / "results/demo/models/cnn/checkpoints/last.ckpt"
    deadline = time.time() + 300
    while not last.exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.5)
    assert last.exists(), "training never wrote a checkpoint"
    time.sleep(1.0)
    train_jobs = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True).stdout.split("\n")
    job_id = next(line.split()[0] for line in train_jobs if "rule_train" in line)
    subprocess.run(["scancel", job_id], check=True)
    for _ in range(120):  # SLURM records the cancellation; then the first run is over, however it ends
        state = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-j", job_id, "-o", "State"], capture_output=True, text=True
        ).stdout
        if "CANCELLED" in state:
            break
        time.sleep(0.5)
    assert "CANCELLED" in state
    # snakemake-executor-plugin-slurm 2.8.0 keeps polling a cancelled job for minutes: end that session
    os.killpg(first.pid, 9)
    first.wait()
    snakemake(workdir, "--unlock")
    assert not (workdir / "results/demo/models/cnn/run.json").exists()
    assert last.exists(), "the checkpoint must survive the cancelled job"
    snakemake(workdir, *SLURM_ARGS, target, timeout=600)
    run = read_json(workdir / "results/demo/models/cnn/run.json")
    history = read_tsv(workdir / "results/demo/models/cnn/history.tsv")
    assert run["resumed"] is True
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
