"""The layers are a contract (docs/architecture.md): checked here so that CI fails when an import runs back up.

* ``lint-imports`` keeps the contracts in ``pyproject.toml`` ([tool.importlinter]): the layers from the faces
  down to the domain, and faces that never import storage.
* No import circle anywhere in ``src/``: a circle means two modules are one idea split wrong. Imports made
  only for type checking count too, and so do imports inside functions: moving an import into a function
  does not break a circle, it hides it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> list[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    return [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]


def test_the_import_contracts_hold() -> None:
    r = subprocess.run(_lint_imports(), capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def _circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1:
                    out.append(sorted(group))
    return out


def test_no_import_circle_anywhere_in_src() -> None:
    graph = grimp.build_graph("revteam", include_external_packages=False, cache_dir=None)
    packages = {m for m in graph.modules if graph.find_children(m)}
    # a package's __init__ importing its own modules is how a package presents itself, not a circle
    imports = {m: {i for i in graph.find_modules_directly_imported_by(m)
                   if not (m in packages and i.startswith(m + "."))} for m in graph.modules}
    assert _circles(imports) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
