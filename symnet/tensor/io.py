"""``theano.tensor.io``: :func:`load` reads a ``.npy`` file inside a graph."""
from .ops.io import LoadFromDisk, load  # noqa: F401

__all__ = ["LoadFromDisk", "load"]
