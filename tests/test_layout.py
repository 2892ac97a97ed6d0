"""The folder tree is the architecture: stage packages, imports only downwards, small modules and functions."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "gaitlab"

# Lower layers never import higher ones; a stage may import its own layer and any below it.
LAYERS = [
    "core",
    "io",
    "pose",
    "analysis",
    "outputs",
    "pipeline",
    "team",
    "evaluation",
    "api",
    "cli",
    "__main__",
    "__init__",
]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods[".".join(("gaitlab", *parts))] = path
    return mods


def _imports(path: Path, module: str) -> set[str]:
    """Every gaitlab module ``path`` imports, at the top or inside a function."""
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("gaitlab"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("gaitlab"):
                out.add(name)
                out.update(f"{name}.{a.name}" for a in node.names)
    return out


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else LAYERS.index("__init__")


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: {i for i in _imports(p, m) if i in mods and i != m} for m, p in mods.items()}


def test_top_of_package_is_only_its_public_face():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= 6, top
    assert set(top) <= {"__init__.py", "__main__.py", "api.py", "cli.py", "pipeline.py"}, top


def test_imports_only_go_down_the_layers():
    wrong = [
        f"{m} -> {i}"
        for m, deps in _graph().items()
        for i in deps
        if _layer(i) > _layer(m) and not (m == "gaitlab" or i == "gaitlab")
    ]
    assert not wrong, wrong


def test_no_import_cycle():
    graph = {m: {d for d in deps if d != "gaitlab"} for m, deps in _graph().items() if m != "gaitlab"}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if d.startswith(m + "."):
                continue  # a package importing its own submodule is not a cycle
            if state.get(d) == 1:
                cycle.extend([*stack[stack.index(d) :], d] if d in stack else [m, d])
                return True
            if d not in state and visit(d, [*stack, d]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)


def test_every_gaitlab_import_names_a_module_or_its_attribute():
    mods = _modules()
    missing = []
    for m, path in mods.items():
        for i in _imports(path, m):
            parent = i.rpartition(".")[0]
            if i not in mods and parent not in mods:
                missing.append(f"{m} -> {i}")
    assert not missing, missing


def test_modules_and_functions_are_small():
    long_modules, long_functions = [], []
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{path.relative_to(PKG)}: {text.count(chr(10))}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(PKG)}:{node.lineno} {node.name}: {n}")
    assert not long_modules, long_modules
    assert not long_functions, long_functions
