"""The layout the design fixes, kept by measure: modules split by responsibility before
they pass 450 lines, functions before 60, and the domain (``courses/``) independent of
the web application and the workers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("academy", "courses", "workers")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_layout_is_measured_somewhere():
    assert len(_modules()) > 100


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_longer_than_450_lines(package):  # type: ignore[no-untyped-def]
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if path.relative_to(ROOT).parts[0] == package
        and (lines := path.read_text().count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_longer_than_60_lines(package):  # type: ignore[no-untyped-def]
    long = {}
    for path in _modules():
        if path.relative_to(ROOT).parts[0] != package:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_the_domain_imports_neither_the_web_application_nor_the_workers():
    found = []
    for path in (ROOT / "courses").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] in ("academy", "workers")
            ]
    assert found == []
