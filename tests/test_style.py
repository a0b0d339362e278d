"""The code stays ruff clean (lint and format) and layered (no import cycle; analysis and encoding free of torch
and lightning), checked with the suite so CI holds it."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff(command):
    result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


PACKAGE = ROOT / "lit_math"
PURE = ("lit_math.analysis", "lit_math.encoding")
"""Pure python/numpy (matplotlib, sympy) packages: no torch, no lightning."""
HEAVY = ("torch", "lightning", "pytorch_lightning", "torchmetrics")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def imports(path: Path, lazy: bool) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file: at module level (class bodies, `if` and `try` included,
    `if TYPE_CHECKING:` left out), and with `lazy` also those inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, todo = [], list(ast.parse(path.read_text(), str(path)).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and not lazy:
            continue
        if is_type_checking(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.append((target, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module") and node.args:
            named = node.args[0]  # importlib.import_module("x"), or a package importing all its modules in a loop
            dynamic = not (isinstance(named, ast.Constant) and isinstance(named.value, str))
            found.append((f"{package}.*" if dynamic else named.value, []))
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """lit_math module -> the lit_math modules it imports when it is imported."""
    graph = {}
    for name, path in MODULES.items():
        edges = set()
        for target, names in imports(path, lazy=False):
            if target.endswith(".*"):  # a computed import_module name: any module of that package
                edges |= {m for m in MODULES if m.rpartition(".")[0] == target[:-2]}
            if target in MODULES:
                edges.add(target)  # `from lit_math.tasks import X` runs lit_math/tasks/__init__.py
            edges |= {f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES}  # `from pkg import submodule`
        graph[name] = edges - {name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first module repeated at the end) per back edge of a depth-first search."""
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_the_lit_math_modules_import_each_other_without_a_cycle():
    """Module-level imports between lit_math modules form no cycle. Imports inside functions are lazy (run when
    the function is called, after every module is loaded) and allowed to point back; a package's `__init__`
    importing its submodules is an edge from the package to each, and `from lit_math.tasks import X` is an
    edge to `lit_math.tasks` (that `__init__`). The parent packages a dotted import loads on the way are not
    counted: a submodule importing a sibling does not cycle through the package being initialised."""
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_analysis_and_encoding_import_neither_torch_nor_lightning():
    """Not even lazily, nor through the lit_math modules they import (with the packages those load)."""
    graph = import_graph()
    bad = []
    for name in (n for n in MODULES if n.startswith(PURE)):
        seen, todo = set(), [name]
        while todo:  # every lit_math module that importing `name` loads, with its parent packages
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            parents = [".".join(current.split(".")[:i]) for i in range(1, current.count(".") + 1)]
            todo += [*graph[current], *(p for p in parents if p in MODULES)]
        for module in sorted(seen):
            lazy = module.startswith(PURE)  # the pure packages' own lazy imports count too
            for target, _ in imports(MODULES[module], lazy=lazy):
                if target.split(".")[0] in HEAVY:
                    bad.append(f"{name}: {module} imports {target}" if module != name else f"{name} imports {target}")
    assert not bad, "\n".join(sorted(set(bad)))
