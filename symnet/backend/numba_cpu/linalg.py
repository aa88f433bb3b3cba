"""Linear algebra ops in the numba backend's driver: MatrixInverse and
Solve (and Det, Eigh, SVD, QRFull, MatrixPinv) are one LAPACK call each
through numpy (a kernel would only wrap it)."""
from .dispatch import driver_op
from ...tensor.ops.linalg import (MatrixInverse, Solve, Det, Eigh, Eig, Lstsq, SVD, QRFull,
                                  MatrixPinv)

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


def _outputs(outs, call, dtypes):
    res = "_r_" + outs[0]
    lines = [f"{res} = {call}"]
    if len(outs) == 1:
        return lines + [f"{outs[0]} = _np.asarray({res}).astype(_np.{dtypes[0]})"]
    return lines + [f"{o} = _np.asarray({res}[{k}]).astype(_np.{dt})"
                    for k, (o, dt) in enumerate(zip(outs, dtypes))]


def _dtypes(node):
    return [o.type.dtype for o in node.outputs]


@driver_op(Det)
def det_driver(node, ins, outs):
    return [_SQUARE.format(a=ins[0], who="det"),
            f"{outs[0]} = _np.{_dtypes(node)[0]}(_np.linalg.det({ins[0]}))"], "scalar"


@driver_op(Eigh)
def eigh_driver(node, ins, outs):
    return [_SQUARE.format(a=ins[0], who="eigh")] + \
        _outputs(outs, f"_np.linalg.eigh({ins[0]}, {node.op.UPLO!r})", _dtypes(node)), True


@driver_op(Eig)
def eig_driver(node, ins, outs):
    # real parts, as Eig.perform
    return [_SQUARE.format(a=ins[0], who="eig")] + _outputs(
        outs, f"[_r.real for _r in _np.linalg.eig({ins[0]})]", _dtypes(node)), True


@driver_op(Lstsq)
def lstsq_driver(node, ins, outs):
    a, b, rcond = ins
    return _outputs(outs, f"_np.linalg.lstsq({a}, {b}, rcond=float({rcond}))",
                    _dtypes(node)), False


@driver_op(SVD)
def svd_driver(node, ins, outs):
    op = node.op
    call = f"_np.linalg.svd({ins[0]}, {op.full_matrices}, {op.compute_uv})"
    return _outputs(outs, call, _dtypes(node)), True


@driver_op(QRFull)
def qr_driver(node, ins, outs):
    return _outputs(outs, f"_np.linalg.qr({ins[0]}, {node.op.mode!r})", _dtypes(node)), False


@driver_op(MatrixPinv)
def pinv_driver(node, ins, outs):
    return _outputs(outs, f"_np.linalg.pinv({ins[0]})", _dtypes(node)), True
