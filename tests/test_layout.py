"""Layout of the test suite: fixtures come from conftest.py, plain helpers from helpers.py, so no module
imports a test module or a conftest (pytest loads those itself; imported by name they load twice)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an ``import`` or ``from ... import`` names, anywhere in the file (also inside functions)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from . import conftest` names the module in the imported names
            names += [node.module] if node.module else [alias.name for alias in node.names]
    return names


def test_no_module_imports_a_test_module_or_conftest():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for name in imported_modules(ast.parse(path.read_text(), filename=str(path))):
            last = name.rsplit(".", 1)[-1]
            if last == "conftest" or last.startswith("test_"):
                offenders.append(f"{path.relative_to(TESTS)} imports {name}")
    assert not offenders, "move shared fixtures to conftest.py and helpers to helpers.py:\n" + "\n".join(offenders)
