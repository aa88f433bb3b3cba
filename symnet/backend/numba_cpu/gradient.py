"""The ops of ``symnet/gradient.py`` in the numba backend.

- The gradient-modifying identities (``disconnected_grad``, ``grad_clip``,
  ...: ``_GradOp``) are their input, a view (one driver line).
- The run-time-sized jacobian (``_JacobianOp``) is written into the
  driver as a loop over the rows, as ``Scan`` is (``scan.py``): its inner
  graph (the vector-Jacobian product) is compiled by this backend, with
  the outer function's mode, when the outer graph is generated; the loop
  calls that inner driver once per row with the unit vector ``e_i`` as
  seed.  No ``function()`` runs while the outer function runs.
"""
from ...gradient import _GradOp, _JacobianOp
from .dispatch import driver_op
from .scan import inner_constant

__all__ = []


@driver_op(_GradOp)
def grad_op_driver(node, ins, outs):
    if node.outputs[0].type.ndim == 0:      # a literal or a numpy scalar: a 0-d array
        return [f"{outs[0]} = _np.asarray({ins[0]})"], True
    return [f"{outs[0]} = {ins[0]}"], "input"


@driver_op(_JacobianOp)
def jacobian_driver(node, ins, outs, writer):
    op = node.op
    fn = inner_constant(op, writer, "row")
    flat, w, free = ins[0], ins[1], ins[2:]
    p, o = f"_{outs[0]}", outs[0]
    n, seed, i = f"{p}n", f"{p}s", f"{p}i"
    dt, sdt = node.outputs[0].type.dtype, op.seed.type.dtype
    # the inner driver never writes its inputs (the thunk protocol): one
    # seed buffer serves every row
    return [f"{n} = _np.size({flat})",
            f"{o} = _np.zeros(({n},) + _np.shape({w}), _np.{dt})",
            f"{seed} = _np.zeros(({n},), _np.{sdt})",
            f"for {i} in range({n}):",
            f"    {seed}[{i}] = 1",
            f"    {o}[{i}] = {fn}({', '.join(list(free) + [seed])})[0]",
            f"    {seed}[{i}] = 0"], True


jacobian_driver.takes_writer = True
