"""Fixtures shared by several test modules; plain helpers and constants live in helpers.py."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from helpers import REPO, copy_workflow, demo_settings, save_tiny_cnn, snakemake, write_synthetic_dataset
from ncbi.eutils_server import FakeEutils, RunningServer


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $GENOMEDL_SHARED_DATA); tests that need it skip when it is absent."""
    path = Path(os.environ.get("GENOMEDL_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}; set GENOMEDL_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def biopython_genbank(tmp_path_factory) -> Path:
    """Folder with the demo's real GenBank files, taken from Biopython's sdist (pip download, cached)."""
    from genomedl.stages.demo_data import run_demo_data

    out = tmp_path_factory.mktemp("biopython")
    run_demo_data(demo_settings() | {"out_dir": str(out)}, log=lambda _: None)
    return out / "GenBank"


@pytest.fixture
def synthetic_dataset(tmp_path) -> dict[str, Path]:
    return write_synthetic_dataset(tmp_path / "data")


def demo_group(nodeid: str) -> bool:
    """Whether a test belongs to the demo group: it reads the ``demo_run`` fixture (found in the sources) or drives
    the SLURM cluster."""
    return nodeid.split("[")[0] in DEMO_RUN_TESTS or nodeid.startswith("tests/test_slurm.py::")


def tests_taking_demo_run() -> set[str]:
    """``tests/<file>::<function>`` of every test function with a ``demo_run`` parameter."""
    found = set()
    for path in sorted(Path(__file__).parent.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(a.arg == "demo_run" for a in node.args.args):
                found.add(f"{path.relative_to(REPO).as_posix()}::{node.name}")
    return found


DEMO_RUN_TESTS = tests_taking_demo_run()


def pytest_collection_modifyitems(items):
    """The demo group first: under pytest-xdist its tests (one worker, the longest share) start at once."""
    items.sort(key=lambda item: not demo_group(item.nodeid))  # stable: the order within each part stays


def pytest_xdist_make_scheduler(config, log):
    """Two pytest-xdist workers (pyproject.toml): each module's tests stay on one worker, so a module-scoped
    fixture is built once; the demo group shares one worker, so the demo runs once and one test at a time drives
    the cluster. (``--dist loadgroup`` would do this with marks, but pytest 9 ignores the node ids it rewrites.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByModuleAndDemo(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "demo_run" if demo_group(nodeid) else nodeid.split("::")[0]

    return ByModuleAndDemo(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With GENOMEDL_REQUIRE_ALL=1 (set by .ci/run) a skipped test fails: CI must run every test."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("GENOMEDL_REQUIRE_ALL") == "1" and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under GENOMEDL_REQUIRE_ALL=1: {report.longrepr}"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo workflow run once, locally, in a temporary copy of the repository."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    snakemake(workdir, "--profile", "profiles/local")
    return workdir


@pytest.fixture
def one_thread():
    """One intra-op thread: tiny models on a busy 2-core machine run many times faster without thread contention.

    Modules of tiny models request it for every test: ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_cnn(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="module")
def reference(shared_data, tmp_path_factory):
    """The real RefSeqGene FASTA NG_012337.1 (SDHD), copied and indexed with pysam."""
    import shutil

    import pysam

    path = tmp_path_factory.mktemp("reference") / "NG_012337.1.fa"
    shutil.copy(shared_data / "gff" / "NG_012337.1.fasta", path)
    pysam.faidx(str(path))
    return path


@pytest.fixture
def fake(shared_data) -> FakeEutils:
    """The recorded NCBI responses of the shared data, served by ``server``."""
    return FakeEutils(shared_data)


@pytest.fixture
def server(fake):
    """A loopback E-utilities server answering with ``fake``."""
    running = RunningServer(fake)
    yield running
    running.close()


@pytest.fixture(scope="session")
def arabidopsis_2mb(tmp_path_factory) -> dict:
    """The first 2 Mb of A. thaliana chromosome 1 and its annotation (helpers.arabidopsis_slice)."""
    from helpers import arabidopsis_slice

    return arabidopsis_slice(tmp_path_factory.mktemp("arabidopsis"), 2_000_000)
