"""``theano.tensor.opt``: the two shape ops Theano defines in its rewrite
module, ``MakeVector`` (a vector of scalars) and ``Shape_i`` (one size of
a tensor's shape), which graph-inspecting code names, and the decorators
that register a user's ``@gof.local_optimizer`` rewrite in a stage
(``register_canonicalize``, ``register_stabilize``, ``register_specialize``).
symnet's own rewrites live in :mod:`symnet.tensor.rewriting`.

Examples
--------
>>> import symnet.tensor as T
>>> from symnet.tensor.opt import MakeVector, Shape_i
>>> x = T.matrix('x')
>>> isinstance(T.shape_i(x, 0).owner.op, Shape_i)
True
"""
from ..graph.rewriting.local_optimizer import register_in
from .basic import NotScalarConstantError, get_scalar_constant_value
from .ops.shape import MakeVector, Shape_i, make_vector

__all__ = ["MakeVector", "Shape_i", "make_vector", "register_canonicalize",
           "register_stabilize", "register_specialize", "get_scalar_constant_value",
           "NotScalarConstantError"]


def _stage(tag):
    def register(lopt, *tags, **kwargs):
        # Theano's two forms: @register_specialize over a LocalOptimizer, or
        # @register_specialize('fast_run', name=...) first given the tags
        if isinstance(lopt, str):
            return lambda inner: register(inner, lopt, *tags, **kwargs)
        return register_in(tag, lopt, kwargs.get("name"))
    register.__name__ = f"register_{tag}"
    register.__doc__ = (f"Register a ``@gof.local_optimizer`` rewrite to run with symnet's "
                        f"{tag} rewrites (its extra tags, Theano's, are accepted).")
    return register


register_canonicalize = _stage("canonicalize")
register_stabilize = _stage("stabilize")
register_specialize = _stage("specialize")
