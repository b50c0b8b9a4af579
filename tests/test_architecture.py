"""The package's structure, read from its source (docs/architecture.md draws it): shared parts below the stages, a
stage never imports another stage, no import runs up a layer, no string import hides an edge, package ``__init__``
files only re-export, and every CLI stage's entry point sits in its own module of :mod:`genomedl.stages`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from genomedl.cli import STAGES

SRC = Path(__file__).resolve().parents[1] / "src" / "genomedl"
# Layers from the bottom up: a module may import modules of its own layer or of a lower one. The first name of a
# module's path under genomedl/ places it ("" is the package itself).
LAYERS = {
    "base": {"", "errors", "console", "atomic", "tables", "choices", "provenance", "runlog", "paths"}
    | {"sequence", "sequence_groups", "fasta_io", "integrity", "html", "plotting"},
    "config": {"config"},
    "data": {"sources", "windows", "encoding", "splits", "data"},
    "models": {"models"},
    "statistics": {"stats", "probes"},
    "engines": {"training", "inference", "scoring", "attribution", "prediction", "generation", "packaging"}
    | {"reporting"},
    "stages": {"stages"},
    "cli": {"cli", "__main__"},
}
RANK = {top: rank for rank, tops in enumerate(LAYERS.values()) for top in tops}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    assert top in RANK, f"{module}: its folder {top!r} is in no layer of tests/test_architecture.py (place it)"
    return RANK[top]


def imports() -> dict[str, set[str]]:
    """Module -> the genomedl modules it imports anywhere in its source (also inside functions), with the CLI's
    stage table read as imports of :mod:`genomedl.cli` (it imports the stage it runs by name)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genomedl"):
                assert node.level == 0, f"{name}: relative import"
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("genomedl")}
        graph[name] = found - {name}
    graph["genomedl.cli"] |= {f"genomedl.stages.{s.target.split(':')[0]}" for s in STAGES.values()}
    return graph


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run up a layer, and imports of one stage by another, one line each."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                found.append(f"{module} imports {target}, a higher layer")
            elif module.startswith("genomedl.stages.") and target.startswith("genomedl.stages."):
                found.append(f"{module} imports {target}, another stage (move the shared part below the stages)")
    return found


def test_no_import_runs_up_a_layer_and_no_stage_imports_another():
    found = violations(imports())
    assert not found, "\n".join(found)


def test_a_planted_upward_or_cross_stage_import_is_named():
    planted = {"genomedl.stats.metrics": {"genomedl.stages.train"}, "genomedl.stages.search": {"genomedl.stages.train"}}
    assert violations(planted) == [
        "genomedl.stages.search imports genomedl.stages.train, another stage (move the shared part below the stages)",
        "genomedl.stats.metrics imports genomedl.stages.train, a higher layer",
    ]


def test_no_string_import_hides_an_edge():
    """importlib/__import__ by name: only the CLI's dispatch, whose targets the import graph reads from STAGES."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                if called in ("importlib.import_module", "__import__", "import_module"):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == ["cli.py:" + str(dispatch_line())], found


def dispatch_line() -> int:
    tree = ast.parse((SRC / "cli.py").read_text())
    dispatch = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "dispatch")
    return next(n.lineno for n in ast.walk(dispatch) if isinstance(n, ast.Call) and "import_module" in ast.unparse(n))


@pytest.mark.parametrize("init", sorted(SRC.rglob("__init__.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_package_init_files_only_reexport(init):
    """A package's __init__.py holds its docstring, imports and ``__all__``; code lives in named modules."""
    body = ast.parse(init.read_text()).body
    allowed = (ast.Import, ast.ImportFrom)
    for node in body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        exports = isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] in (
            ["__all__"],
            ["__version__"],
        )
        assert docstring or exports or isinstance(node, allowed), f"{init}:{node.lineno}: {ast.unparse(node)[:80]}"


def test_every_stage_entry_point_sits_in_its_own_stage_module():
    for name, stage in STAGES.items():
        module, function = stage.target.split(":")
        path = SRC / "stages" / f"{module}.py"
        assert path.exists(), f"genomedl {name}: {path} is missing"
        defined = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert function in defined, f"genomedl {name}: {function} is not defined in {path.name}"
