"""Linear algebra ops in the numba backend's driver: MatrixInverse and
Solve are one LAPACK call each through numpy (a kernel would only wrap it)."""
from .dispatch import driver_op
from ...tensor.ops.linalg import MatrixInverse, Solve

__all__ = []

_SQUARE = "if {a}.ndim != 2 or {a}.shape[0] != {a}.shape[1]: raise ValueError('{who}: the " \
          "matrix must be square, got shape %s' % ({a}.shape,))"


@driver_op(MatrixInverse)
def matrix_inverse_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    return [_SQUARE.format(a=ins[0], who="matrix_inverse"),
            f"{outs[0]} = _np.linalg.inv({ins[0]}).astype(_np.{dt})"], True


@driver_op(Solve)
def solve_driver(node, ins, outs):
    a, b = ins
    dt = node.outputs[0].type.dtype
    return [_SQUARE.format(a=a, who="solve"),
            f"if {b}.shape[0] != {a}.shape[0]: raise ValueError('solve: A has shape %s but "
            f"b has %d rows' % ({a}.shape, {b}.shape[0]))",
            f"{outs[0]} = _np.linalg.solve({_triangle(node.op, a)}, {b}).astype(_np.{dt})"], True


def _triangle(op, a):
    """A triangular A is read through its triangle only (Solve.perform)."""
    return {"lower_triangular": f"_np.tril({a})",
            "upper_triangular": f"_np.triu({a})"}.get(op.A_structure, a)
