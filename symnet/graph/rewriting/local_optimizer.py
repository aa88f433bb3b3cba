"""Theano's way to write a local rewrite: ``@gof.local_optimizer([op])``
around ``fn(node)``, registered with ``register_specialize`` (and its
siblings in ``symnet.tensor.opt``).

A ``LocalOptimizer`` wraps ``transform(node)``, which returns False/None
to decline or a list of replacements for ``node.outputs``; registering it
adds a ``LocalRewrite`` of symnet's database (``db.py``) under the tag of
its stage, so ``function()`` runs it in its equilibrium with symnet's own
rewrites, and ``Mode.excluding(name)`` turns it off.
"""
from ..op import Op
from .db import REGISTRY, LocalRewrite, _register

__all__ = ["LocalOptimizer", "local_optimizer", "register_in"]


class LocalOptimizer:
    """A node-level rewrite in Theano's form: subclasses (or
    ``local_optimizer``) define ``transform(node)``; ``tracks()`` lists the
    ops (instances or classes) whose nodes it looks at, None for all."""

    def transform(self, node):
        raise NotImplementedError(f"{type(self).__name__}.transform")

    def tracks(self):
        return None

    def __str__(self):
        return getattr(self, "__name__", type(self).__name__)


class _FromFunction(LocalOptimizer):
    def __init__(self, fn, tracks):
        self.fn, self._tracks = fn, tracks
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def transform(self, node):
        return self.fn(node)

    def tracks(self):
        return self._tracks

    def __call__(self, node):
        return self.fn(node)


def local_optimizer(tracks, inplace=False, requirements=()):
    """Decorator: ``fn(node)`` as a ``LocalOptimizer`` looking at the nodes
    of the ops in ``tracks`` (op instances or classes; None: every node).
    ``inplace`` and ``requirements`` are Theano's, accepted and unused
    (symnet's in-place pass runs after every registered rewrite).

    Examples
    --------
    >>> import symnet.tensor as T
    >>> from symnet.tensor.ops.elemwise import Elemwise
    >>> @local_optimizer([Elemwise])
    ... def neg_of_neg(node):
    ...     x = node.inputs[0]
    ...     if node.op == x.owner.op == T.neg(x).owner.op:
    ...         return [x.owner.inputs[0]]
    ...     return False
    >>> neg_of_neg.transform(T.neg(T.neg(T.dscalar('x'))).owner)
    [x]
    """
    if tracks is not None:
        tracks = list(tracks)
        bad = [t for t in tracks if not (isinstance(t, Op) or
                                         (isinstance(t, type) and issubclass(t, Op)))]
        if bad:
            raise TypeError(f"local_optimizer: tracks must be ops or Op classes, got {bad}")

    def deco(fn):
        return _FromFunction(fn, tracks)
    return deco


def _op_classes(tracks):
    if tracks is None:
        return None
    # symnet's database dispatches on the op's class; the op instance
    # (``fibby``) is matched again by the rewrite's own ``node.op == fibby``
    return tuple({t if isinstance(t, type) else type(t) for t in tracks})


def register_in(tag, lopt, name=None):
    """Register the LocalOptimizer ``lopt`` under ``tag`` ('canonicalize',
    'stabilize', 'specialize'), named ``name`` or its function's name;
    returns ``lopt``."""
    if not isinstance(lopt, LocalOptimizer):
        raise TypeError(f"register_{tag}: expected a LocalOptimizer (a function "
                        f"decorated with @local_optimizer([...])), got {lopt!r}")
    classes = _op_classes(lopt.tracks())
    tracked = lopt.tracks()

    def run(fgraph, node):
        if tracked is not None and not any(
                node.op == t if isinstance(t, Op) else isinstance(node.op, t) for t in tracked):
            return None
        return lopt.transform(node) or None

    run.lopt = lopt
    name = name or str(lopt)
    old = REGISTRY.get(name)
    if old is not None and getattr(old.fn, "lopt", None) is lopt:
        return lopt     # registered already (a script run twice in one session)
    _register(LocalRewrite(name, run, (tag,), classes))
    return lopt
