"""The registry of named, tagged rewrites.

A *local* rewrite looks at one Apply node and either declines (returns None
or False) or proposes replacements for its outputs.  A *global* rewrite
(fusion, in-place marking) walks the whole FunctionGraph once.  Every
rewrite has a unique name and a set of tags; ``Mode.including(*tags)`` and
``Mode.excluding(*names_or_tags)`` select them through ``select``.

Tags in use: ``fast_compile`` (merge, constant folding), ``canonicalize``,
``stabilize``, ``specialize``, ``fusion``, ``inplace``.  A rewrite registered
with ``optional=True`` (tag ``unsafe``, for instance) only runs when one of
its tags is explicitly included.
"""

__all__ = ["LocalRewrite", "GlobalRewrite", "register_local", "register_global",
           "REGISTRY", "select", "RewriteTypeError"]


class RewriteTypeError(TypeError):
    """A rewrite proposed a replacement of another type (names the rewrite)."""


class LocalRewrite:
    """A named node-level rewrite ``fn(fgraph, node) -> replacements``.

    ``fn`` returns None/False to decline, a list aligned with
    ``node.outputs`` (None entries keep that output), or a dict
    ``{old_variable: new_variable}``.

    Parameters
    ----------
    name : str
    fn : callable
    tags : tuple of str
    tracks : tuple of Op classes, or None for every node
    scalars : tuple of str, or None
        For Elemwise rewrites: the scalar op names the rewrite looks at.
    optional : bool
        Run only when one of ``tags`` is explicitly included.
    """

    def __init__(self, name, fn, tags, tracks=None, scalars=None, optional=False):
        self.name = name
        self.fn = fn
        self.tags = frozenset(tags)
        self.tracks = tuple(tracks) if tracks else None
        self.scalars = frozenset(scalars) if scalars else None
        self.optional = optional

    def __call__(self, fgraph, node):
        return self.fn(fgraph, node)

    def __repr__(self):
        return f"LocalRewrite({self.name!r}, tags={sorted(self.tags)})"


class GlobalRewrite:
    """A named whole-graph pass ``fn(fgraph) -> number of changes``."""

    def __init__(self, name, fn, tags, optional=False):
        self.name = name
        self.fn = fn
        self.tags = frozenset(tags)
        self.optional = optional

    def __call__(self, fgraph):
        return self.fn(fgraph)

    def __repr__(self):
        return f"GlobalRewrite({self.name!r}, tags={sorted(self.tags)})"


#: name -> LocalRewrite or GlobalRewrite, in registration order
REGISTRY = {}


def _register(rw):
    if rw.name in REGISTRY and REGISTRY[rw.name].fn is not rw.fn:
        raise ValueError(f"a rewrite named {rw.name!r} is already registered")
    REGISTRY[rw.name] = rw
    return rw


def register_local(*tags, tracks=None, scalars=None, name=None, optional=False):
    """Decorator registering ``fn(fgraph, node)`` as a local rewrite.

    Examples
    --------
    >>> from symnet.tensor.ops.elemwise import Elemwise
    >>> @register_local('canonicalize', tracks=[Elemwise], scalars=['neg'],
    ...                 name='doc_example_rewrite', optional=True)
    ... def doc_example_rewrite(fgraph, node):
    ...     return None
    >>> REGISTRY['doc_example_rewrite'].tags
    frozenset({'canonicalize'})
    """
    def deco(fn):
        _register(LocalRewrite(name or fn.__name__, fn, tags, tracks, scalars, optional))
        return fn
    return deco


def register_global(*tags, name=None, optional=False):
    """Decorator registering ``fn(fgraph) -> n_changes`` as a global pass."""
    def deco(fn):
        _register(GlobalRewrite(name or fn.__name__, fn, tags, optional))
        return fn
    return deco


def select(tags, include=(), exclude=()):
    """Registered rewrites of a phase: those carrying one of ``tags``.

    Optional rewrites also need one of their tags in ``include``; anything
    whose name or one of whose tags is in ``exclude`` is dropped.
    """
    tags = set(tags)
    include = set(include)
    exclude = set(exclude)
    out = []
    for rw in REGISTRY.values():
        if rw.name in exclude or rw.tags & exclude:
            continue
        if not rw.tags & tags:
            continue
        if rw.optional and not (rw.tags & include or rw.name in include):
            continue
        out.append(rw)
    return out
