"""The package's import graph: no cycles, and the modules that read fitted
estimators (persistence, the ONNX converter, the compression report) do not
import the modules that fit them.

The graph is read from the source with :mod:`ast`, so it holds every import
of a ``sklearn_kd`` module in each file, those inside functions included.
"""

import ast
from pathlib import Path

import pytest

import sklearn_kd

PACKAGE = "sklearn_kd"
ROOT = Path(sklearn_kd.__file__).parent

#: The modules that define and fit the estimators.
ESTIMATOR_MODULES = ("sklearn_kd._base", "sklearn_kd._distilled",
                     "sklearn_kd._regressor")
#: Modules that know the estimators from the registry in ``_fitted`` only.
REGISTRY_ONLY = ("sklearn_kd.persistence", "sklearn_kd.onnx",
                 "sklearn_kd._compression")
MAX_ESTIMATOR_LINES = 1000


def _module_name(path):
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _modules():
    return {_module_name(path): path for path in sorted(ROOT.glob("*.py"))}


def _imported(node, modules):
    """The ``sklearn_kd`` modules an import statement imports. ``from
    sklearn_kd import name`` imports the submodule ``name`` when there is
    one, else the package itself (its ``__init__``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:  # every module lives directly in the package
        base = PACKAGE if node.level == 1 else None
        if base is None:
            return set()
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if source != PACKAGE:
        return {source}
    return {
        f"{PACKAGE}.{alias.name}"
        if f"{PACKAGE}.{alias.name}" in modules
        else PACKAGE
        for alias in node.names
    }


def import_graph():
    """``{module: set of sklearn_kd modules it imports}``."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= _imported(node, modules)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules (the first repeated at the
    end), or None."""
    state = {}  # 1: on the current path, 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def reachable(graph, start):
    """Every module ``start`` imports, directly or through others, each with
    the chain of imports that reaches it."""
    chains = {start: [start]}
    stack = [start]
    while stack:
        node = stack.pop()
        for target in sorted(graph[node]):
            if target not in chains:
                chains[target] = [*chains[node], target]
                stack.append(target)
    del chains[start]
    return chains


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_graph_reads_relative_and_local_imports(graph):
    # sanity of the reader: a top-level relative import, a package-level
    # ``from . import`` and the estimator modules' shared base
    assert "sklearn_kd._fitted" in graph["sklearn_kd.persistence"]
    assert "sklearn_kd.metrics" in graph["sklearn_kd"]
    assert "sklearn_kd._base" in graph["sklearn_kd._regressor"]


def test_find_cycle_reports_the_cycle():
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(toy) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", REGISTRY_ONLY)
def test_readers_do_not_import_the_estimator_modules(graph, module):
    chains = reachable(graph, module)
    for banned in (*ESTIMATOR_MODULES, PACKAGE):
        assert banned not in chains, (
            f"{module} imports {banned}: " + " -> ".join(chains[banned])
        )


@pytest.mark.parametrize("module", ESTIMATOR_MODULES)
def test_estimator_modules_stay_small(module):
    path = ROOT / f"{module.rsplit('.', 1)[1]}.py"
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_ESTIMATOR_LINES, (
        f"{path.name} has {n_lines} lines (at most {MAX_ESTIMATOR_LINES})"
    )


def test_every_estimator_is_registered():
    from sklearn_kd._fitted import ESTIMATORS

    assert ESTIMATORS == {
        "DistilledClassifier": sklearn_kd.DistilledClassifier,
        "DistilledRegressor": sklearn_kd.DistilledRegressor,
    }
