"""Decompositions in the numba backend's driver: Cholesky and symmetric
eigenproblems are LAPACK calls through numpy (a kernel would only wrap
them), written as the driver lines of tensor/ops/decomp.py's perform."""
from .dispatch import driver_op
from ...tensor.ops.decomp import Cholesky, Eigvalsh, _EigvecshOf

__all__ = []


def _checks(who, ins):
    lines = [f"if {a}.ndim != 2 or {a}.shape[0] != {a}.shape[1]: raise ValueError("
             f"'{who}: the matrix must be square, got shape %s' % ({a}.shape,))" for a in ins]
    if len(ins) == 2:
        lines.append(f"if {ins[1]}.shape != {ins[0]}.shape: raise ValueError('{who}: a has "
                     f"shape %s but b has %s' % ({ins[0]}.shape, {ins[1]}.shape))")
    return lines


@driver_op(Cholesky)
def cholesky_driver(node, ins, outs):
    (a,) = ins
    dt = node.outputs[0].type.dtype
    call = (f"_np.linalg.cholesky({a})" if node.op.lower
            else f"_np.linalg.cholesky({a}.T).T")
    return _checks("cholesky", ins) + [
        f"{outs[0]} = _np.ascontiguousarray({call}, dtype=_np.{dt})"], True


def _eigh_lines(ins, lower, tmp):
    """Driver lines leaving ``{tmp}_w, {tmp}_v``: eigenvalues and
    (B-orthonormal) eigenvectors, as ``generalized_eigh`` computes them."""
    a, b = (ins[0], None) if len(ins) == 1 else ins
    if not lower:
        a, b = f"{a}.T", (None if b is None else f"{b}.T")
    if b is None:
        return [f"{tmp}_w, {tmp}_v = _np.linalg.eigh({a}, UPLO='L')"]
    return [f"{tmp}_li = _np.linalg.inv(_np.linalg.cholesky({b}))",
            f"{tmp}_w, {tmp}_v = _np.linalg.eigh({tmp}_li @ (_np.tril({a}) + "
            f"_np.tril({a}, -1).T) @ {tmp}_li.T)",
            f"{tmp}_v = {tmp}_li.T @ {tmp}_v"]


@driver_op(Eigvalsh)
def eigvalsh_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    return _checks("eigvalsh", ins) + _eigh_lines(ins, node.op.lower, outs[0]) + [
        f"{outs[0]} = {outs[0]}_w.astype(_np.{dt})"], True


@driver_op(_EigvecshOf)
def eigvecsh_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    return _eigh_lines(ins, node.op.values.lower, outs[0]) + [
        f"{outs[0]} = _np.ascontiguousarray({outs[0]}_v, dtype=_np.{dt})"], True
