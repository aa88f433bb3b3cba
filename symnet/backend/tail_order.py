"""The order of the plan's last steps: each in-place update while its
gradient is still in cache.

``update_tail.plan_tail`` moves the updates written into shared storage to
the end of the plan (``plan.tail``), after every other step, so a call that
raises writes none of them.  Within that rule the order is free, and it
matters: an update is a memory-bound loop over the parameter, its velocity
and its gradient, and a gradient produced long before its update has been
pushed out of the core's cache by the GEMMs in between.  ``order_tail``:

1. moves the steps whose results only the tail reads (a weight gradient's
   GEMM, with the steps only it reads: a transpose, a reshape after it) to
   just before the tail, smallest gradient first, so the largest gradient
   is the last one produced;
2. runs the tail in the reverse order of its inputs' production: the update
   whose gradient was produced last runs first.

Only single-node steps that overwrite none of their inputs are moved (a
step that destroys an input must stay before that input's other readers);
moving a step later is safe when nothing but the tail reads its results.
The promise of ``registry.py`` is untouched: the tail is still last, and
``numba_cpu/inplace.py`` still checks every tail step's shapes before the
first write.

Measured (W1's two large weights, 784x500 and 500x500, b=64: gradient GEMMs
then the two Nesterov updates, interleaved in one process, 2 cores with
other processes busy, load ~3): one BLAS thread, median 1487 us in the old
order against 1375 us in this one (minimums 1094 against 1051); two BLAS
threads, minimums 790 against 727 us (medians too noisy to read).  The
whole W1 step, old order against this one interleaved in one process, one
BLAS thread, load 5-7: thread CPU time b=64 median 3.61 against 3.67 ms
(minimums 3.10 against 3.07), b=512 19.8 against 20.1 ms: no difference
readable under that contention; not yet measured on an idle machine.
"""

__all__ = ["order_tail", "static_size"]


def static_size(var):
    """The static element count of ``var``, or None when a dimension is unknown."""
    shape = getattr(var.type, "shape", None)
    if shape is None or any(d is None for d in shape):
        return None
    n = 1
    for d in shape:
        n *= d
    return n


def order_tail(fgraph, steps, tail, run_class):
    """``(steps, tail)`` reordered (see the module docstring): ``steps`` are
    the plan's steps before the tail, ``tail`` its in-place update runs.
    Returns the new steps before the tail and the new tail."""
    in_tail = {node for run in tail for node in run.nodes}
    late = {}     # step index -> the size of the gradient it leads to
    late_nodes = {}
    for k in range(len(steps) - 1, -1, -1):     # readers come after producers
        step = steps[k]
        if isinstance(step, run_class) or getattr(step.op, "destroy_map", None):
            continue
        reads = [c for out in step.outputs for c, _ in fgraph.clients.get(out, ())]
        if not reads or any(c == "output" or (c not in in_tail and c not in late_nodes)
                            for c in reads):
            continue
        # a producer's key is at most its late readers' (so it sorts before
        # them); an unknown size (a batch dimension) counts as smallest
        key = min([late_nodes[c] for c in reads if c in late_nodes] +
                  [(static_size(step.outputs[0]) or 0) if any(c in in_tail for c in reads)
                   else float("inf")])
        late[k] = late_nodes[step] = key
    moved = set(late)
    # smallest first, ties in their old order: the largest gradient is produced last
    late = sorted(late, key=lambda k: (late[k], k))
    order = [s for k, s in enumerate(steps) if k not in moved] + [steps[k] for k in late]
    made = {}
    for k, step in enumerate(order):
        for node in (step.hoisted + step.nodes) if isinstance(step, run_class) else [step]:
            for out in node.outputs:
                made[out] = k

    def ready(run):
        members = set(run.nodes)
        return max((made.get(v, -1) for node in run.nodes for v in node.inputs
                    if v.owner not in members), default=-1)

    # stable: runs whose inputs came at the same point keep their order
    new_tail = sorted(tail, key=ready, reverse=True)
    return order, new_tail
