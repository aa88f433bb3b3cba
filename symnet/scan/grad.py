"""Backpropagation through time: the gradient of a Scan is another Scan.

The backward loop visits the forward steps last to first.  At forward step
``t`` it takes the gradient arriving at the step's outputs (from the cost,
through the stacked outputs, plus what later steps sent back through the
taps), asks ``symnet.grad`` for the vector-Jacobian product of the inner
graph, and

- emits the gradient of the step's sequence slices (one per step),
- sends the gradient of each state tap ``k`` to step ``t + k``: a recurrent
  output with largest lag ``L`` carries a buffer ``P`` of ``L`` pending
  gradients, ``P[i]`` for the state of step ``t - i``,
- adds the gradient of the non-sequences to a running sum.

After the last backward step ``P`` holds the gradient of the initial
buffer (reversed).

The backward step needs the forward step's intermediate values.  Plain
arithmetic it recomputes (cheap, fused); the products that read a state (an
LSTM's ``h_{t-1} @ U``: a GEMM per step, a fifth of a training step's
FLOPs) and the sigmoid, tanh and exp values that do (their derivatives are
written with their own value: W8's backward step computed its gates' three
sigmoids and two tanh again, ~45 us a step on one core, from four column
slices of the gates' input, each copied to C order) it reads back
instead: the gradient runs a copy of the forward Scan that also stacks
those values (``saved_products``), and the ``scan_reuse_saving`` rewrite
(``saved.py``) lets that copy replace the original loop, so the forward
runs once.  A saved value the backward step reads only the size of (the
zeros an LSTM's gate gradients are summed into) is not stacked: the size
is taken from the step's inputs (``_lift_shapes``).  ``SAVE_ACTIVATIONS =
False`` recomputes the activations (kept to measure the two; W8 step, one
BLAS thread, load 3.5, interleaved: 96.1 / 89.4 ms median / min saved
against 99.5 / 91.8 recomputed; the masked GRU 69.7 / 66.8 against
71.5 / 68.8.  With ``_last_step_only`` too, against neither, two BLAS
threads, load 1.6-2.7: LSTM 61.4 / 57.4 against 65.0 / 61.7 ms, masked
GRU 51.7 / 45.6 against 58.9 / 47.6).  ``truncate_gradient`` multiplies everything flowing back by
a 0/1 mask that drops to 0 after that many steps.

A recurrent output whose stacked gradient is zeros (an LSTM's cell
states) or zeros but for the last step (``h[-1]``, an RNN read at its final
state) is no sequence of the backward loop: the last step's value starts
the pending buffer (``_last_step_only``).  W8's BPTT lost two sequences of
100 x 32 x 256 zeros (filled in memory every call) and an ``add`` per step
each.
"""
import numpy as np

from ..graph.traversal import clone_replace
from .inner import _float, placeholder, run_build_hooks, with_test_value

__all__ = ["scan_grad"]


def scan_grad(op, inputs, outputs, output_grads):
    """The input gradients of a Scan node (see the module docstring)."""
    from .. import tensor as T
    from ..gradient import grad
    from ..tensor.type import TensorType
    n = inputs[0]
    ns, nst, nn = op.n_seqs, op.n_states, op.n_nonseqs
    seqs = inputs[1:1 + ns]
    inits = inputs[1 + ns:1 + ns + nst]
    nonseqs = inputs[1 + ns + nst:]
    n_in = len(op.inner_inputs)

    # a fresh copy of the forward step, so the backward graph owns its variables
    fresh = [with_test_value(placeholder(v.type, v.name), v) for v in op.inner_inputs]
    dots = saved_products(op)
    cloned = clone_replace(list(op.inner_outputs) + dots, dict(zip(op.inner_inputs, fresh)))
    run_build_hooks(cloned)
    outs, dot_clones = cloned[:len(op.inner_outputs)], cloned[len(op.inner_outputs):]
    tap_owner = []   # per tap input: (recurrent output index, tap)
    for j, t in enumerate(op.taps):
        if t is not None:
            tap_owner.extend((j, k) for k in t)

    mask = None
    mask_seq = None
    if op.truncate_gradient is not None and op.truncate_gradient >= 0:
        mask = with_test_value(T.bscalar("mask"), T.constant(1, dtype="int8"))
        kept = op.truncate_gradient
        done = [o for o, i in zip(outputs, op.inner_outputs) if i.tag.get("until_done")]
        if done:
            # a loop with until: the backward loop starts with the steps run
            # after the condition held (frozen), which the count skips
            from .until import steps_run
            kept = kept + (n - steps_run(done[0], n))
        mask_seq = T.cast(T.lt(T.arange(n), kept), "int8")

    # per-step output gradients (sequences of the backward loop) and pending buffers
    g_in, g_outer = {}, {}
    pend_in, pend_outer = {}, {}
    si = 0
    for j, (o, t) in enumerate(zip(op.inner_outputs, op.taps)):
        if t is not None:
            si += 1
        if not _float(o):
            continue
        g = output_grads[j]
        if g.dtype != o.dtype:
            g = T.cast(g, o.dtype)
        # a recurrent output's gradient that is zeros, or zeros but for the
        # last step, is no sequence: the last step's value starts the
        # pending buffer instead (see ``_last_step_only``)
        last = _last_step_only(g) if t is not None else None
        if last is None:
            g_outer[j] = g[::-1]
            g_in[j] = with_test_value(
                placeholder(TensorType(o.dtype, shape=g.type.shape[1:]), f"g_out{j}"),
                g_outer[j], 0)
        if t is not None:
            init = inits[si - 1]
            pend_in[j] = with_test_value(
                placeholder(TensorType(o.dtype, shape=init.type.shape), f"pending{j}"),
                T.zeros_like(init))
            start = T.zeros_like(init)
            if last is not None and last is not _ZERO:
                start = T.inc_subtensor(start[0], T.cast(last, o.dtype))
            pend_outer[j] = T.shape_padleft(start)

    known = {}
    for j in sorted(set(g_in) | set(pend_in)):
        total = pend_in[j][0] if j not in g_in else \
            g_in[j] + pend_in[j][0] if j in pend_in else g_in[j]
        if mask is not None:
            total = total * mask
        known[outs[j]] = known[outs[j]] + total if outs[j] in known else total
    wrt_idx = [i for i, v in enumerate(fresh) if _float(v)]
    if not known or not wrt_idx:
        return [None] * len(inputs)
    gs = grad(None, [fresh[i] for i in wrt_idx], known_grads=known,
              disconnected_inputs="ignore", return_disconnected="zero")
    g_of = dict(zip(wrt_idx, gs))

    # the new pending buffers: shift by one step, add what the taps sent back
    new_pend = {}
    for j, p in pend_in.items():
        sent = [(k, g_of.get(ns + pos)) for pos, (owner, k) in enumerate(tap_owner)
                if owner == j and g_of.get(ns + pos) is not None]
        if op.taps[j] == [-1] and sent:
            # one tap: the new buffer is what it sent (no shift, no zeros per step)
            shifted = T.shape_padleft(T.cast(sent[0][1], p.dtype))
            if shifted.type.shape != p.type.shape:
                shifted = T.inc_subtensor(T.zeros_like(p)[0], sent[0][1])
        else:
            shifted = T.concatenate([p[1:], T.zeros_like(p[:1])], axis=0)
            for k, gk in sent:
                shifted = T.inc_subtensor(shifted[-k - 1], gk)
        new_pend[j] = shifted * mask if mask is not None else shifted
    acc_idx = [k for k in range(nn) if ns + op.n_taps + k in g_of]
    acc_in = {k: with_test_value(placeholder(fresh[ns + op.n_taps + k].type, f"acc{k}"),
                                 fresh[ns + op.n_taps + k]) for k in acc_idx}
    seq_idx = [k for k in range(ns) if k in g_of]

    # the backward loop: sequences, then carried states, then non-sequences
    b_inputs = fresh[:ns + op.n_taps] + [g_in[j] for j in g_in]
    b_seqs = [s[:n][::-1] for s in seqs]
    si = 0
    for j, (t, lag) in enumerate(zip(op.taps, op.lags)):
        if t is None:
            continue
        full = T.concatenate([inits[si], outputs[j]], axis=0)
        si += 1
        for k in t:
            b_seqs.append(full[lag + k:lag + k + n][::-1])
    b_seqs += [g_outer[j] for j in g_in]
    if mask is not None:
        b_inputs.append(mask)
        b_seqs.append(mask_seq)
    b_inputs += [pend_in[j] for j in pend_in] + [acc_in[k] for k in acc_idx]
    b_outputs = [new_pend[j] for j in pend_in] + \
        [acc_in[k] + g_of[ns + op.n_taps + k] for k in acc_idx] + \
        [g_of[k] for k in seq_idx]
    b_inits = [pend_outer[j] for j in pend_in] + \
        [T.shape_padleft(T.zeros_like(nonseqs[k])) for k in acc_idx]
    b_inputs += fresh[ns + op.n_taps:n_in]
    # a saved value the backward step reads only the shape of (the zeros its
    # gradient is summed into) is not saved: the clone stays for its shape,
    # which the inner graph's compilation reads off the clone's inputs
    b_outputs = _lift_shapes(b_outputs, dot_clones)
    used = _value_reads(b_outputs, dot_clones)
    dots = [d for d, c in zip(dots, dot_clones) if c in used]
    dot_clones = [c for c in dot_clones if c in used]
    if dots:
        # the products the forward loop stacked, read back instead of recomputed
        saving = type(op)(op.inner_inputs, list(op.inner_outputs) + dots, n_seqs=ns,
                          taps=list(op.taps) + [None] * len(dots), n_nonseqs=nn,
                          mode=op.mode, truncate_gradient=op.truncate_gradient,
                          name=op.name)
        saving.extends = op
        stacked = saving(*inputs)
        saved_in = [with_test_value(placeholder(d.type, f"saved{k}"), d)
                    for k, d in enumerate(dot_clones)]
        b_outputs = clone_replace(b_outputs, dict(zip(dot_clones, saved_in)))
        run_build_hooks(b_outputs)
        b_inputs = b_inputs[:len(b_seqs)] + saved_in + b_inputs[len(b_seqs):]
        b_seqs += [v[::-1] for v in stacked[len(op.inner_outputs):]]
    n_carried = len(pend_in) + len(acc_idx)
    back = type(op)(b_inputs, b_outputs, n_seqs=len(b_seqs),  # a Scan, like op
                    taps=[[-1]] * n_carried + [None] * len(seq_idx), n_nonseqs=nn,
                    mode=op.mode, name=f"grad_of_{op.name or 'scan'}")
    res = back(n, *b_seqs, *b_inits, *nonseqs)
    res = res if isinstance(res, list) else [res]

    result = [None] * len(inputs)
    pos = 0
    si_of = {}
    si = 0
    for j, t in enumerate(op.taps):
        if t is not None:
            si_of[j] = si
            si += 1
    for j in pend_in:
        result[1 + ns + si_of[j]] = res[pos][-1][::-1]
        pos += 1
    for k in acc_idx:
        result[1 + ns + nst + k] = res[pos][-1]
        pos += 1
    for k in seq_idx:
        g = res[pos][::-1]
        # the loop ran over the whole sequence: no zero padding, no copy
        result[1 + k] = g if _length_of(n, seqs[k]) else \
            T.set_subtensor(T.zeros_like(seqs[k])[:n], g)
        pos += 1
    return result


def _lift_shapes(outputs, candidates):
    """``outputs`` with every ``Shape_i`` of a ``candidates`` variable
    replaced by the size its producers' ``infer_shape`` give, followed down
    to the step's inputs (a product's rows are its first operand's): read
    back from the forward loop, the candidates' own computation is not in
    the backward step, and must not stay in it for a size."""
    from ..graph.traversal import clone_replace, io_toposort
    from ..tensor.basic import as_tensor_variable
    from ..tensor.ops.shape import Shape_i
    cand = set(candidates)
    rep = {}
    for node in io_toposort(list(candidates), outputs):
        if not isinstance(node.op, Shape_i) or node.inputs[0] not in cand:
            continue
        v, i, size = node.inputs[0], node.op.i, None
        while v.owner is not None:
            prod = v.owner
            shapes = [tuple(d if d is not None else Shape_i(j)(x)
                            for j, d in enumerate(x.type.shape)) for x in prod.inputs]
            try:
                size = prod.op.infer_shape(prod, shapes)[v.index][i]
            except (NotImplementedError, TypeError, ValueError, AttributeError):
                break
            if size is None:
                break
            owner = getattr(size, "owner", None)
            if owner is None or not isinstance(owner.op, Shape_i):
                break
            v, i = owner.inputs[0], owner.op.i
        if size is not None:
            new = as_tensor_variable(np.int64(size)) if isinstance(size, (int, np.integer)) \
                else size
            if new.type.dtype == node.outputs[0].type.dtype and new.ndim == 0:
                rep[node.outputs[0]] = new
    # the candidates themselves stay the same variables (clone_replace keeps
    # every node whose inputs did not change), so they can be replaced next;
    # one computed from another's size would be cloned and recomputed (the
    # same values)
    return clone_replace(outputs, rep) if rep else outputs


def _value_reads(outputs, candidates):
    """The ``candidates`` that a node of the graph of ``outputs`` reads for
    more than its shape (``Shape``, ``Shape_i``), not counting the nodes
    that compute candidates (they are read back, not computed)."""
    from ..graph.traversal import io_toposort
    from ..tensor.ops.shape import Shape, Shape_i
    cand = set(candidates)
    found = set()
    for node in io_toposort(list(candidates), outputs):
        if not isinstance(node.op, (Shape, Shape_i)):
            found.update(v for v in node.inputs if v in cand)
    found.update(v for v in outputs if v in cand)
    return found


_ZERO = object()     # ``_last_step_only``: the gradient is zeros at every step


def _all_zeros(g):
    """Whether ``g`` is zeros by construction: a constant of zeros, or an
    ``Alloc`` of one (``zeros_like``: the gradient of an output nothing
    reads, such as an LSTM's cell states)."""
    from ..graph.basic import Constant
    from ..tensor.ops.shape import Alloc
    if g.owner is not None and isinstance(g.owner.op, Alloc):
        g = g.owner.inputs[0]
    return isinstance(g, Constant) and g.data is not None and \
        np.asarray(g.data).size > 0 and not np.asarray(g.data).any()


def _last_step_only(g):
    """For the stacked gradient ``g`` of a recurrent output: ``_ZERO`` when
    it is zeros, the value of its last step when it is zeros but for that
    step (``inc_subtensor(zeros[-1], v)``: the gradient of ``out[-1]``, an
    RNN read only at its final state), else None.

    Backward step 0 (the forward's last step) adds the step's gradient to
    the pending gradient of that state, whose initial buffer is zeros; every
    later step adds zeros.  Starting the pending buffer at ``v`` instead
    gives the same sums without a sequence of zeros in memory (two passes
    over it, steps x batch x units) and an ``add`` per step."""
    from ..tensor.ops.indexing import IncSubtensor
    if _all_zeros(g):
        return _ZERO
    node = g.owner
    if node is None or not isinstance(node.op, IncSubtensor) or len(node.inputs) != 2 or \
            node.op.idx_list != (-1,) or not _all_zeros(node.inputs[0]):
        return None
    return node.inputs[1]


def _length_of(n, seq):
    """Whether ``n`` is, symbolically, ``seq.shape[0]``."""
    from ..tensor.ops.indexing import Subtensor
    from ..tensor.ops.shape import Shape, Shape_i
    node = n.owner
    if node is None:
        return False
    if isinstance(node.op, Shape_i):
        return node.op.i == 0 and node.inputs[0] is seq
    if isinstance(node.op, Subtensor) and node.op.idx_list == (0,) and \
            node.inputs[0].owner is not None and isinstance(node.inputs[0].owner.op, Shape):
        return node.inputs[0].owner.inputs[0] is seq
    return False


# the transcendental functions whose derivative is written with their own
# value (``o * (1 - o)``, ``1 - o * o``, ``o``): saved, the backward step
# reads them instead of computing them again
_BY_VALUE = ("sigmoid", "tanh", "exp")
SAVE_ACTIVATIONS = True


def _activations(order, on_state):
    """The outputs of elementwise ``_BY_VALUE`` functions in ``order`` that
    read a state (``on_state``), in order."""
    from ..tensor.ops.elemwise import Elemwise
    return [n.outputs[0] for n in order
            if isinstance(n.op, Elemwise) and len(n.outputs) == 1 and
            getattr(n.op.scalar_op, "name", None) in _BY_VALUE and
            n.outputs[0] in on_state and _float(n.outputs[0])]


def saved_products(op):
    """The inner ``Dot`` results of ``op`` that read a state tap (directly
    or not): what the backward loop reads back from the forward one.

    A product read only by one ``add`` whose other terms do not read a
    state (an RNN's ``x_t W + b + h_{t-1} U``: the gates before their
    nonlinearities) is saved as that sum instead: the backward step then
    reads the gates' input as it is, instead of adding the sequence's step
    to the saved product again (one kernel and one sequence less per step,
    and the forward stores the kernel's C-ordered result)."""
    from ..graph.traversal import io_toposort
    from ..tensor.ops.blas import Dot
    from ..tensor.ops.elemwise import Elemwise
    taps = set(op.inner_inputs[op.n_seqs:op.n_seqs + op.n_taps])
    on_state = set(taps)
    found, readers = [], {}
    order = io_toposort(op.inner_inputs, op.inner_outputs)
    for node in order:
        for v in node.inputs:
            readers.setdefault(v, []).append(node)
    for node in order:
        if any(v in on_state for v in node.inputs):
            on_state.update(node.outputs)
            if isinstance(node.op, Dot) and _float(node.outputs[0]):
                found.append(node.outputs[0])
    for k, d in enumerate(found):
        rd = readers.get(d, [])
        if len(rd) != 1 or d in op.inner_outputs:
            continue
        (add,) = rd
        s = add.outputs[0]
        if isinstance(add.op, Elemwise) and add.op.scalar_op.name == "add" and \
                len(add.outputs) == 1 and s.dtype == d.dtype and s.ndim == d.ndim and \
                add.inputs.count(d) == 1 and \
                not any(v in on_state for v in add.inputs if v is not d):
            found[k] = s
    if SAVE_ACTIVATIONS:
        found += [v for v in _activations(order, on_state) if v not in op.inner_outputs]
    return found
