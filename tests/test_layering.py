"""Import layering of the symnet package (issue 12).

``symnet/graph`` is the foundation: it imports no other part of symnet, not
even lazily inside a function.  No import cycle may span two top-level parts
(graph, tensor, compile, backend, scan, gradient.py, layers...): a cycle
inside one part is tolerated, one across parts means the layers are tangled.
Imports are read statically from the source (``ast``), lazy ones included.
"""
import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "symnet")


def _modules(pkg_dir=PKG):
    """{dotted module name: file path} for every .py file of the package."""
    base = os.path.dirname(pkg_dir)
    found = {}
    for dirpath, _, files in os.walk(pkg_dir):
        for fname in files:
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            name = os.path.relpath(path, base)[:-3].replace(os.sep, ".")
            if name.endswith(".__init__"):
                name = name[:-len(".__init__")]
            found[name] = path
    return found


def _targets(module, path, node):
    """Dotted names an import statement may load (the module and, for a
    ``from`` import, each imported name, which may be a submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        pkg = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            pkg = pkg.rpartition(".")[0]
        head = f"{pkg}.{node.module}" if node.module else pkg
    else:
        head = node.module
    return [head] + [f"{head}.{alias.name}" for alias in node.names]


def import_edges(modules):
    """{module: set of symnet modules it imports}, anywhere in its source.

    The root package ``symnet`` only re-exports names: an import of it is
    not an edge (every module would otherwise sit in one cycle with it)."""
    edges = {m: set() for m in modules}
    for mod, path in modules.items():
        with open(path) as fh:
            tree = ast.parse(fh.read(), path)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _targets(mod, path, node):
                while name and name not in modules:   # a name inside a module
                    name = name.rpartition(".")[0]
                if name and name != mod and name != "symnet":
                    edges[mod].add(name)
    return edges


def part(module):
    """The top-level part of symnet a module belongs to ('graph', 'gradient')."""
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else bits[0]


def cycles(edges):
    """The strongly connected groups (of more than one module) of ``edges``.

    Tarjan's algorithm with an explicit stack (no recursion: the import graph
    is small, but the project never recurses over graphs)."""
    order, low, on_stack, stack, groups = {}, {}, set(), [], []
    for start in sorted(edges):
        if start in order:
            continue
        order[start] = low[start] = len(order)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(edges[start])))]
        while work:
            v, succ = work[-1]
            advanced = False
            for w in succ:
                if w not in order:
                    order[w] = low[w] = len(order)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], order[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == order[v]:
                group = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_cycle_finder_finds_cycles_and_only_cycles():
    edges = {"symnet.a.x": {"symnet.b.y"}, "symnet.b.y": {"symnet.a.z"},
             "symnet.a.z": {"symnet.a.x", "symnet.c"}, "symnet.c": {"symnet.d"},
             "symnet.d": set(), "symnet.e": {"symnet.e2"}, "symnet.e2": {"symnet.e"}}
    assert sorted(cycles(edges)) == [["symnet.a.x", "symnet.a.z", "symnet.b.y"],
                                     ["symnet.e", "symnet.e2"]]
    assert cycles({"symnet.a": {"symnet.b"}, "symnet.b": set()}) == []


def test_import_edges_resolve_relative_and_lazy_imports(tmp_path):
    pkg = tmp_path / "symnet"
    (pkg / "graph").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "graph" / "__init__.py").write_text("from .basic import Variable\n")
    (pkg / "graph" / "basic.py").write_text(
        "import os\n\ndef f():\n    from ..tensor import var\n    from .. import compile\n")
    (pkg / "tensor.py").write_text("from symnet.graph.basic import f\n")
    (pkg / "compile.py").write_text("")
    edges = import_edges(_modules(str(pkg)))
    assert edges["symnet.graph"] == {"symnet.graph.basic"}
    assert edges["symnet.graph.basic"] == {"symnet.tensor", "symnet.compile"}
    assert edges["symnet.tensor"] == {"symnet.graph.basic"}


def test_graph_imports_nothing_above_it():
    edges = import_edges(_modules())
    upward = sorted(f"{m} -> {t}" for m, ts in edges.items() if part(m) == "graph"
                    for t in ts if part(t) != "graph")
    assert upward == [], "symnet/graph imports other parts of symnet:\n" + "\n".join(upward)


def test_no_import_cycle_spans_two_parts():
    crossing = [(sorted({part(m) for m in g}), g) for g in cycles(import_edges(_modules()))
                if len({part(m) for m in g}) > 1]
    assert crossing == [], "import cycles across parts of symnet:\n" + "\n".join(
        f"{parts}: {', '.join(g)}" for parts, g in crossing)


_GRAPH_ALONE = r"""
import sys, types
# load symnet/graph without symnet/__init__.py, which imports every part
pkg = types.ModuleType("symnet")
pkg.__path__ = [sys.argv[1]]
sys.modules["symnet"] = pkg
import symnet.graph, symnet.graph.rewriting
from symnet.graph import Apply, FunctionGraph, Op, Type, Variable


class Num(Type):
    def filter(self, value, strict=False, allow_downcast=None):
        return float(value)

    def __eq__(self, other):
        return type(other) is Num

    def __hash__(self):
        return 1


class Add(Op):
    def make_node(self, a, b):
        return Apply(self, [a, b], [Num()()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] + inputs[1]


x, y = Num()("x"), Num()("y")
z = Add()(Add()(x, y), Add()(x, y))
fg = FunctionGraph([x, y], [z])
stats = symnet.graph.rewriting.rewrite_graph(fg)
assert stats.get("merge") == 1, stats
assert len(fg.apply_nodes) == 2, fg.apply_nodes
try:
    z.eval({x: 1.0, y: 2.0})
except RuntimeError as exc:
    assert "import symnet" in str(exc), exc
else:
    raise AssertionError("eval without symnet.compile did not raise")
above = sorted(m for m in sys.modules if m.startswith("symnet.")
               and not m.startswith("symnet.graph"))
print("ABOVE", above)
"""


def test_graph_runs_without_the_parts_above_it():
    """symnet.graph loads, builds, merges and rewrites a graph of its own
    types and ops with no other part of symnet in ``sys.modules``."""
    proc = subprocess.run([sys.executable, "-c", _GRAPH_ALONE, PKG],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ABOVE []" in proc.stdout, proc.stdout
