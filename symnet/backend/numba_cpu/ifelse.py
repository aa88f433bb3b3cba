"""IfElse in the numba backend: an ``if``/``else`` in the generated driver.

``IfElse`` (both branches computed outside it) selects one value per
output.  ``LazyIfElse`` compiles each branch's inner graph with the outer
function's mode (as Scan compiles its step) and calls only the taken one;
its source goes to the appendix of the outer source.
"""
from ...tensor.ops.ifelse import IfElse, LazyIfElse
from .dispatch import driver_op

__all__ = ["ifelse_driver", "lazy_ifelse_driver"]


@driver_op(IfElse)
def ifelse_driver(node, ins, outs, writer):
    n = node.op.n_outs
    vals = [writer.value(v) for v in node.inputs]
    return [f"{o} = _np.array({a} if {ins[0]} else {b}, copy=True)"
            for o, a, b in zip(outs, vals[1:1 + n], vals[1 + n:])], True


ifelse_driver.takes_writer = True


@driver_op(LazyIfElse)
def lazy_ifelse_driver(node, ins, outs, writer):
    op = node.op
    vals = [writer.value(v) for v in node.inputs]
    res = f"_{outs[0]}r"
    lines = [f"if {ins[0]}:"]
    for taken in (True, False):
        inner = op.compiled(taken, writer.mode)
        fn = writer.object_const(inner)
        text = getattr(inner, "source", None) or "(no source: another backend)"
        writer.src.appendix.append(
            f"# -- {fn}: the {'then' if taken else 'else'} branch of {op}, its own source\n"
            + "\n".join("# " + ln if ln else "#" for ln in text.splitlines()))
        _, _, which = op.branch(taken)
        lines += ([] if taken else ["else:"]) + [f"    {res} = {fn}({', '.join(vals[which])})"]
    # copies: an inner output may be one of its inputs (an outer value)
    lines += [f"{o} = _np.array({res}[{k}], dtype=_np.{v.type.dtype}, copy=True)"
              for k, (o, v) in enumerate(zip(outs, node.outputs))]
    return lines, True


lazy_ifelse_driver.takes_writer = True
