"""Graph rewriting: named, tagged rewrites applied to a FunctionGraph.

``symnet.function`` calls ``rewrite_graph`` (through ``Mode.rewrite``) on its
private copy of the graph.  The pipeline, for ``optimizer='default'``:

1. one equilibrium (``EquilibriumDriver``) of merging, constant folding and
   every local rewrite tagged ``canonicalize``, ``stabilize`` or
   ``specialize`` (tried in registration order at each node; the worklist
   visits producers before consumers, so a pattern is matched after its
   inputs were simplified);
2. the global passes tagged ``fusion`` (elementwise chains -> one
   ``Elemwise(Composite)``), then a final merge/fold equilibrium;
3. the global passes tagged ``inplace``, last, so no later rewrite sees a
   destroyed variable.  In-place rewrites never destroy a graph input
   (function inputs, shared variables' storage) or a constant.

``optimizer='fast_compile'`` runs merging and constant folding only.
``include`` adds optional rewrites (by tag or name) and, for
``fast_compile``, whole tags; ``exclude`` removes rewrites by name or tag.
The result is ``{rewrite_name: times_fired}`` (``fn.rewrite_stats``).

Examples
--------
>>> import symnet, symnet.tensor as T
>>> from symnet.compile.mode import Mode
>>> x = T.vector('x')
>>> f = symnet.function([x], T.exp(x) * 1 + 0, mode=Mode('py'))
>>> [type(n.op).__name__ for n in f.fgraph.toposort()]
['Elemwise']
>>> f.rewrite_stats['local_mul_one'], f.rewrite_stats['local_add_zero']
(1, 1)
"""
import collections

from .db import (REGISTRY, GlobalRewrite, LocalRewrite, RewriteTypeError,  # noqa: F401
                 register_global, register_local, select)
from .equilibrium import FOLD_LIMIT, EquilibriumDriver, check_replacement  # noqa: F401

__all__ = ["rewrite_graph", "register_local", "register_global", "REGISTRY",
           "LocalRewrite", "GlobalRewrite", "RewriteTypeError", "check_replacement",
           "EquilibriumDriver", "PHASES"]

#: the default pipeline: (phase name, tags, kind)
PHASES = (
    ("simplify", ("canonicalize", "stabilize", "specialize"), "local"),
    ("fusion", ("fusion",), "global"),
    ("cleanup", (), "local"),
    ("inplace", ("inplace",), "global"),
)

# merge and constant folding live in the driver; registered so that they
# are listed and can be excluded like any other rewrite
register_local("fast_compile", "merge", name="merge")(None)
register_local("fast_compile", "constant_folding", name="constant_folding")(None)


def rewrite_graph(fgraph, optimizer="default", include=(), exclude=()):
    """Rewrite ``fgraph`` in place; return ``{rewrite_name: times_fired}``.

    Parameters
    ----------
    fgraph : FunctionGraph
    optimizer : {'default', 'fast_compile', None}
    include : tuple of str
        Tags or names of optional rewrites to add.
    exclude : tuple of str
        Tags or names of rewrites to switch off.
    """
    stats = collections.Counter()
    if optimizer is None:
        return {}
    if optimizer not in ("default", "fast_compile", "fast_run", "FAST_RUN"):
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'default', "
                         f"'fast_compile' or None")
    include, exclude = tuple(include), tuple(exclude)
    excluded = set(exclude)
    merge = not ({"merge", "fast_compile"} & excluded)
    fold = not ({"constant_folding", "fast_compile"} & excluded)

    def local(tags):
        rws = [rw for rw in select(tags, include, exclude)
               if isinstance(rw, LocalRewrite) and rw.fn is not None]
        EquilibriumDriver(fgraph, rws, stats, merge=merge, fold=fold).run()

    def global_(tags):
        for rw in select(tags, include, exclude):
            if isinstance(rw, GlobalRewrite):
                n = rw.fn(fgraph)
                if n:
                    stats[rw.name] += int(n)

    if optimizer == "fast_compile":
        extra = tuple(t for t in include if t not in ("fusion", "inplace"))
        local(extra)
        global_(tuple(t for t in include if t in ("fusion", "inplace")))
        return dict(stats)
    for phase, tags, kind in PHASES:
        if kind == "global":
            global_(tags)
        elif phase != "cleanup" or stats.get("fuse_elemwise"):
            local(tags + include)
    return dict(stats)
