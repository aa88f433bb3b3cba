"""``theano.tensor.slinalg``: solving linear systems (the op lives in
``symnet/tensor/ops/linalg.py``)."""
from .ops.linalg import Solve, solve  # noqa: F401

__all__ = ["Solve", "solve"]
