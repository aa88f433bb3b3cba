"""The reference interpreter: ``Op.perform`` for every node, in order.

Every other backend is tested against this one.  A node that raises gets
its error re-raised with the op, the input shapes and the user line that
built it, keeping the original exception type.
"""
import numpy as np

from ...graph.basic import short_str

from ..registry import register_linker

__all__ = ["PyLinker", "node_error", "perform_node"]


def node_error(exc, node, values):
    """``exc`` re-raised with the node, its input shapes and its user line."""
    shapes = ", ".join(str(getattr(v, "shape", type(v).__name__)) for v in values)
    trace = node.tag.get("trace")
    where = f"\n  built at {trace[0]}:{trace[1]} (in {trace[2]})" if trace else ""
    # Name the node's inputs too (API.md: "names the node (op and inputs)");
    # long reprs (constant arrays) are cut so the message stays readable.
    names = ", ".join(short_str(v)[:40] for v in node.inputs)
    msg = (f"{exc}\n  while running node {node.op.short_name()}({names}) "
           f"with input shapes [{shapes}]"
           f"{where}")
    try:
        new = type(exc)(msg)
    except Exception:
        new = RuntimeError(msg)
    new.__cause__ = exc
    return new


def perform_node(node, vals):
    """``node``'s outputs computed by its ``perform`` on ``vals`` (errors
    re-raised by ``node_error``; floating-point warnings silenced)."""
    storage = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        try:
            node.op.perform(node, list(vals), storage)
        except Exception as exc:
            raise node_error(exc, node, vals) from exc
    return [cell[0] for cell in storage]


class PyLinker:
    """Compile a FunctionGraph into a callable running ``perform`` node by node."""

    backend = "py"
    fresh_outputs = None   # ``perform`` may return views: Function checks
    source = None

    def __init__(self, fgraph, mode=None):
        self.fgraph = fgraph
        self.order = fgraph.toposort()
        index = {}
        for i, v in enumerate(fgraph.inputs):
            index[v] = i
        n = len(fgraph.inputs)
        consts = {}
        steps = []
        for node in self.order:
            for v in node.inputs:
                if v not in index:
                    index[v] = n
                    consts[n] = getattr(v, "data", None)
                    n += 1
            outs = []
            for v in node.outputs:
                index[v] = n
                outs.append(n)
                n += 1
            steps.append((node, [index[v] for v in node.inputs], outs))
        for v in fgraph.outputs:
            if v not in index:
                index[v] = n
                consts[n] = getattr(v, "data", None)
                n += 1
        self.n_slots = n
        self.consts = consts
        self.steps = steps
        self.out_slots = [index[v] for v in fgraph.outputs]

    def __call__(self, *inputs):
        slots = [None] * self.n_slots
        slots[: len(inputs)] = inputs
        for k, v in self.consts.items():
            slots[k] = v
        with np.errstate(all="ignore"):
            for node, ins, outs in self.steps:
                vals = [slots[i] for i in ins]
                storage = [[None] for _ in outs]
                try:
                    node.op.perform(node, vals, storage)
                except Exception as exc:
                    raise node_error(exc, node, vals) from exc
                for k, cell in zip(outs, storage):
                    slots[k] = cell[0]
        return [slots[k] for k in self.out_slots]


register_linker("py", PyLinker)
