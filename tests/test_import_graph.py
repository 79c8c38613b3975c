"""Imports between the four apps run one way (issue 20).

The forum is the base: it imports none of the other apps (they take part through its hooks,
forum/hooks.py). Anonymization and licensing never import the requests board (it plugs into
them). No app imports the project package `config`, and no app imports another app's view
module. Every import counts, lazy ones inside functions included: the graph is read from the
source, not from what happens to be loaded.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("forum", "requests_board", "anonymization", "licensing")
# importer app -> apps it must never import
FORBIDDEN = {
    "forum": {"requests_board", "anonymization", "licensing", "config"},
    "requests_board": {"config"},
    "anonymization": {"requests_board", "config"},
    "licensing": {"requests_board", "config"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth; for `from a import b`
    both `a` and `a.b` (b may be a module). `package`: the file's package (by default from its path)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = _module_name(path)
        if path.name != "__init__.py":
            package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def _app_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            yield app, path


def _is_view_module(module: str) -> bool:
    parts = module.split(".")
    return "views" in parts[1:]


def test_the_walker_sees_lazy_and_relative_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import json\n\n\ndef f():\n    from requests_board import views\n    import config.checks\n"
                     "    from ..api import views as api_views\n")
    names = {name for _line, name in _imports(probe, package="forum.services")}
    assert {"requests_board.views", "config.checks", "forum.api.views"} <= names
    assert _is_view_module("requests_board.views") and _is_view_module("forum.api.views")
    assert not _is_view_module("forum.permissions")


@pytest.mark.parametrize("app", APPS)
def test_imports_run_one_way(app):
    wrong = []
    for owner, path in _app_files():
        if owner != app:
            continue
        for line, module in _imports(path):
            target = module.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if target in FORBIDDEN[app]:
                wrong.append(where)
            elif target in APPS and target != app and _is_view_module(module):
                wrong.append(where + " (another app's view module)")
    assert not wrong, "\n".join(sorted(set(wrong)))
