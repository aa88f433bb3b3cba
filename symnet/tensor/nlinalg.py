"""``theano.tensor.nlinalg``: linear algebra through numpy (the ops live in
``symnet/tensor/ops/linalg.py``)."""
from .ops.linalg import MatrixInverse, matrix_inverse  # noqa: F401

__all__ = ["MatrixInverse", "matrix_inverse"]
