"""Random draws in the numba backend's driver: ``RandomDraw`` is one driver
line calling ``symnet.tensor.ops.random.draw``, the function the op's
``perform`` calls too.

This is the op's numba implementation, not a fallback: a draw is one call
of a numpy ``Generator`` method on the whole sample (already compiled C),
and calling the very same function is what makes a seeded numba run draw
exactly the numbers of a seeded py run (the stream state ``[seed, counter]``
advances by one per draw on both).  A numba kernel would have to
re-implement PCG64 and numpy's samplers bit for bit to get there.
"""
from .dispatch import driver_op, method_driver
from ...tensor.ops.random import RandomDraw
from ...tensor.raw_random import RandomFunction

__all__ = []


@driver_op(RandomDraw)
def random_draw_driver(node, ins, outs):
    op = node.op
    state, sizes, params = ins[0], ins[1:1 + op.ndim], ins[1 + op.ndim:]
    size = "(" + "".join(f"int({s}), " for s in sizes) + ")"
    args = "(" + "".join(f"{p}, " for p in params) + ")"
    return ["from symnet.tensor.ops.random import draw as _draw",
            f"{outs[0]}, {outs[1]} = _draw({op.dist!r}, {op.dtype!r}, {state}, {size}, "
            f"{args})"], True


# ``theano.tensor.raw_random``'s ``RandomFunction``: the state is a numpy
# ``RandomState`` (a Python object), so the line calls the op's own ``draw``
# (its perform), which draws with that RandomState's methods.
method_driver(RandomFunction, "draw", objects=True)
