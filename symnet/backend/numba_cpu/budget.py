"""The size budget of one generated loop kernel.

numba's compile time grows faster than a function's length: a fused loop of
50 chained ``tanh(y) * 0.5 + 0.1`` links (150 scalar ops, 100 arguments,
50 results in one loop body) took about 25 s to compile, while a loop of
a few links takes well under a second.  So a run of elementwise nodes that
``linker._loop_runs`` would compute in one loop is cut into pieces, each
within ``KERNEL_BUDGET``: a piece costs at most a pass over memory more than
one giant loop, and compile time stays bounded per kernel.

Cut at fixed sizes, a long repetitive graph (a 2,000-deep chain and its
gradient, 300 parameters updated the same way) gives pieces whose source
texts are identical; the linker keeps one kernel per distinct text and the
cache compiles it once, so such a graph compiles a handful of small kernels
whatever its depth.

Examples
--------
>>> b = RunBudget()
>>> b.limits == KERNEL_BUDGET
True
"""

from ...graph.basic import Constant

__all__ = ["KERNEL_BUDGET", "HEAVY_OPS", "HEAVY_WEIGHT", "MODULE_BUDGET", "RunBudget",
           "node_ops"]

#: the most one loop kernel may hold: scalar ops in its body (weighted, see
#: ``HEAVY_WEIGHT``), elementwise nodes (each may be a result written to
#: memory) and arguments.  The ops and args match the fusion rewrite's
#: limits for one Composite; 6 nodes compiled a 200-term wide sum with its
#: gradient in 3.0 s where 12 nodes took 7.4 s (fewer distinct pieces, each
#: cheaper), and a 200-deep chain in 1.9 s against 2.0 s; W2's whole
#: loss-and-gradient loop (5 nodes) stays one loop.
KERNEL_BUDGET = {"ops": 48, "nodes": 6, "args": 16}

#: float32 scalar ops that a kernel computes with an inlined helper of
#: ``lib/fastmath32.py`` (``elemwise._F32_HELPERS``; a test keeps the two
#: equal): each inlines a few dozen instructions (a polynomial, exp's
#: bit tricks) that LLVM then optimizes in every kernel using it.
HEAVY_OPS = frozenset({"exp", "tanh", "sigmoid"})
#: what one of them counts against the ops budget.  numba's compile time
#: grows about linearly with the loop body (measured, helpers warm: 0.15 s
#: for a kernel of one ``tanh(y) * c + d`` link, 0.25 s for 3, 0.44 s for
#: 6, 0.79 s for 12), so a repetitive graph, whose distinct pieces are few
#: whatever their size, compiles fastest in short pieces: at 12 a chain
#: piece holds 3 tanh links (not 6), which cut a cold 100-deep chain's
#: compile by about a quarter, while W2's loop (tanh, exp and 16 plain ops,
#: 40) stays one loop.
HEAVY_WEIGHT = 12


#: the most LLVM IR instructions one llvmlite module of the llvm emitter
#: holds (``llvm/jit.py``): a graph's distinct kernels are compiled in
#: modules of at most this size (a kernel larger than it alone), so LLVM's
#: O3 time per module stays bounded however many distinct kernels a graph
#: has, and each module is cached on its own (a graph sharing a module's
#: kernels with another loads it).  A W9 graph's kernels fit in one module
#: (the 2,000-deep chain: 4 kernels, about 600 instructions; the 2,000-term
#: sum: 8, about 1,200), W3's too.
MODULE_BUDGET = 4000


def node_ops(node):
    """Scalar operations ``node`` adds to a loop body (a fused Composite
    counts its whole program, a reduction one accumulation step), a float32
    ``HEAVY_OPS`` one counting ``HEAVY_WEIGHT``."""
    sop = getattr(node.op, "scalar_op", None)
    program = getattr(sop, "program", None)
    if program is None:
        return _op_weight(sop, node.outputs[0].dtype if sop is not None else None)
    return sum(_op_weight(op, dtype) for op, _, dtype in program)


def _op_weight(scalar_op, dtype):
    heavy = getattr(scalar_op, "name", None) in HEAVY_OPS and str(dtype) == "float32"
    return HEAVY_WEIGHT if heavy else 1


class RunBudget:
    """What a run of loop nodes has used of ``limits`` so far.

    ``fits(node)`` says whether ``node`` may join without passing a limit
    (a run's first node always fits: a single node is never cut); ``add``
    records it.  Arguments are counted as distinct outside inputs that are
    not scalar constants (those are literals in the kernel text).
    """

    def __init__(self, limits=None):
        self.limits = dict(KERNEL_BUDGET if limits is None else limits)
        self.ops = 0
        self.nodes = 0
        self.members = set()
        self.args = set()

    def _new_args(self, node):
        return {v for v in node.inputs
                if v.owner not in self.members and v not in self.args
                and not _scalar_constant(v)}

    def fits(self, node):
        if not self.nodes:
            return True
        lim = self.limits
        return (self.ops + node_ops(node) <= lim["ops"]
                and self.nodes + 1 <= lim["nodes"]
                and len(self.args) + len(self._new_args(node)) <= lim["args"])

    def add(self, node):
        self.args |= self._new_args(node)
        self.members.add(node)
        self.ops += node_ops(node)
        self.nodes += 1


def _scalar_constant(v):
    return isinstance(v, Constant) and getattr(v.type, "ndim", None) == 0
