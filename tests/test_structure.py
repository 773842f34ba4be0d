"""The code's shape, checked from its source with ast: no import circle at import time, no long
function, and `graphassoc --help` without the heavy libraries.

Run it as a script to see the figures: `python tests/test_structure.py`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Source folder -> the module name it installs as (pyproject's package-dir: cli/ is graphassoc.cli).
PACKAGES = {ROOT / "graphassoc": "graphassoc", ROOT / "cli": "graphassoc.cli"}
MAX_FUNCTION_LINES = 80
HEAVY = ("torch", "scipy", "fim", "pyarrow")


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    out = {}
    for folder, prefix in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([prefix, *parts])] = path
    return out


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at import time: the body, into if/try/with blocks, not into defs or TYPE_CHECKING."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out += _module_level(node.orelse)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            nested = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            nested += [s for h in getattr(node, "handlers", []) for s in h.body]
            out += _module_level(nested)
        else:
            out.append(node)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports while it is being imported."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _module_level(ast.parse(path.read_text()).body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from pkg import sub` imports the module pkg.sub when there is one, else a name of pkg.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            graph[name] |= {t for t in targets if t in known and t != name}
    return graph


def import_circles() -> list[list[str]]:
    """Groups of modules that import each other at import time (strongly connected components > 1)."""
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, bs in import_graph().items() for b in bs])
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > limit:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return sorted(out)


def help_imports(args: tuple[str, ...] = ("--help",)) -> list[str]:
    """Which heavy libraries `graphassoc ARGS` loads, in a fresh interpreter."""
    code = ("import sys\nimport graphassoc.cli.main as m\n"
            f"try:\n    m.app({list(args)!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            f"print(sorted(x for x in {HEAVY!r} if x in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_no_import_circles() -> None:
    assert import_circles() == []


def test_circle_finder_sees_a_circle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "graphassoc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from graphassoc import b\n")
    (pkg / "b.py").write_text("import graphassoc.a\ndef f():\n    from graphassoc import c\n")
    (pkg / "c.py").write_text("from graphassoc.b import f\n")  # c -> b only: b imports c inside a function
    monkeypatch.setattr(sys.modules[__name__], "PACKAGES", {pkg: "graphassoc"})
    assert import_circles() == [["graphassoc.a", "graphassoc.b"]]


# Over 80 lines at d8d5197: graphassoc/model/training.py:272 train (183 lines), being split by the trainer branch.
def test_no_function_over_80_lines() -> None:
    assert long_functions() == []


@pytest.mark.parametrize("args", [("--help",), ("train", "--help"), ("ls", "--help")])
def test_help_loads_no_heavy_library(args: tuple[str, ...]) -> None:
    assert help_imports(args) == []


if __name__ == "__main__":
    print("import circles:", len(import_circles()))
    for circle in import_circles():
        print(f"   {len(circle)} modules:", ", ".join(circle))
    print(f"functions over {MAX_FUNCTION_LINES} lines:", len(long_functions()))
    for fn in long_functions():
        print("  ", fn)
    print("functions over 60 lines:", len(long_functions(60)))
    print("`graphassoc --help` loads:", help_imports())
