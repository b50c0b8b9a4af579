"""Every module of the package imports on its own (no import cycle, no import that only works after another
module's), and the light entry points do not pull in torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

# Runs in a fresh interpreter: third-party libraries are imported once, then every genomedl module is imported
# in a forked child that starts without any genomedl module loaded. Prints {module: error} as JSON.
FORKED_IMPORTS = r"""
import importlib, importlib.util, json, os, pkgutil, sys, traceback

for heavy in ("numpy", "pandas", "scipy", "sklearn", "matplotlib.pyplot", "torch", "lightning", "transformers"):
    importlib.import_module(heavy)
assert not any(m == "genomedl" or m.startswith("genomedl.") for m in sys.modules)


def modules(name, paths):
    yield name
    for info in pkgutil.iter_modules(paths):
        if info.name == "__main__":          # runs the CLI: `python -m genomedl`
            continue
        child = f"{name}.{info.name}"
        if info.ispkg:
            yield from modules(child, [os.path.join(p, info.name) for p in paths])
        else:
            yield child


failed = {}
for name in modules("genomedl", list(importlib.util.find_spec("genomedl").submodule_search_locations)):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            status = 0
        except BaseException:
            os.write(write, traceback.format_exc(limit=-3).encode())
            status = 1
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode()
    if os.waitpid(pid, 0)[1] != 0:
        failed[name] = error or "child died"
print(json.dumps(failed))
"""


def test_every_module_imports_alone():
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-I", "-c", FORKED_IMPORTS],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    failed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failed, "\n".join(f"{name}:\n{error}" for name, error in failed.items())
    assert time.time() - started < 60


@pytest.mark.parametrize("module", ["genomedl.stages.report", "genomedl.config", "genomedl.cli"])
def test_light_modules_do_not_import_torch(module):
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys, {module}; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
