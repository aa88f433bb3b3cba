"""The Scan op: a loop whose body is a symbolic graph, and its gradient.

A ``Scan`` node holds an *inner graph* (placeholder input variables and the
output variables computed from them) and runs it once per step.  Its outer
inputs are, in order::

    n_steps, sequences..., initial-state buffers..., non-sequences...

and it has one outer output per inner output: all steps stacked along a new
leading axis.  An inner output either feeds back (a *recurrent* output, with
a list of negative taps such as ``[-1]`` or ``[-2, -1]``) or does not (its
entry in ``taps`` is None).  The inner inputs are, in order: one slice per
sequence (step ``t`` of the sequence), one value per tap of every recurrent
output (tap ``k`` is the state computed at step ``t + k``), and the
non-sequences.  The initial buffer of a recurrent output with largest lag
``L`` has shape ``(L,) + state_shape``: entry ``i`` is the state at step
``i - L``.

The gradient (backpropagation through time) is another Scan, running over
the reversed steps; its inner graph is ``symnet.grad`` of the forward inner
graph, so gradients of gradients go through the same machinery.
"""
import numpy as np

from ..graph.basic import Apply, Constant, Variable
from ..graph.compiler import get_compiler
from ..graph.op import Op
from ..graph.traversal import clone_replace, graph_inputs

__all__ = ["Scan"]


class Scan(Op):
    """A symbolic loop (see the module docstring).

    Parameters
    ----------
    inner_inputs : list of Variable
        Owner-less placeholders: sequence slices, state taps, non-sequences.
    inner_outputs : list of Variable
        Computed from ``inner_inputs`` (and constants) only.
    n_seqs : int
    taps : list of (list of int or None)
        One entry per inner output: its negative taps, or None when the
        output is not fed back.
    n_nonseqs : int
    mode : str or Mode, optional
        How the inner graph is compiled (default 'py').
    truncate_gradient : int
        -1 for full backpropagation through time, else the number of steps
        (counted back from the last) the gradient flows through.
    name : str, optional
    keep : list of (int or None), optional
        Per output: None to return every step, or ``m`` to return only the
        last ``min(n_steps, m)`` steps (set by the ``scan_keep_last``
        rewrite when only ``out[-1]`` is used, so a backend can store a
        few steps instead of all of them).
    full : list of bool, optional
        Per output: True for a recurrent output returned with its initial
        taps in front (``lag + n_steps`` entries: the whole buffer the loop
        fills, set by the ``scan_full_buffer`` rewrite where the graph
        would otherwise copy it, as BPTT's ``concatenate([init, out])``).

    Notes
    -----
    Every Scan op is distinct (equality is identity): two loops are never
    merged, as their inner graphs would have to be compared.
    """

    def __init__(self, inner_inputs, inner_outputs, n_seqs, taps, n_nonseqs,
                 mode=None, truncate_gradient=-1, name=None, keep=None, full=None):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.n_seqs = n_seqs
        self.taps = [None if t is None else list(t) for t in taps]
        self.n_nonseqs = n_nonseqs
        self.mode = mode
        self.truncate_gradient = truncate_gradient
        self.name = name
        self.keep = list(keep) if keep is not None else [None] * len(self.inner_outputs)
        if len(self.keep) != len(self.inner_outputs) or \
                any(m is not None and (not isinstance(m, int) or m < 1) for m in self.keep):
            raise ValueError(f"Scan: keep must give None or a positive int per output, "
                             f"got {keep}")
        self.lags = [None if t is None else -min(t) for t in self.taps]
        self.full = [bool(f) for f in full] if full is not None else \
            [False] * len(self.inner_outputs)
        if len(self.full) != len(self.inner_outputs) or any(
                f and (t is None or m is not None)
                for f, t, m in zip(self.full, self.taps, self.keep)):
            raise ValueError(f"Scan: full must give a bool per output, True only for a "
                             f"recurrent output that keeps every step, got {full}")
        self.n_taps = sum(len(t) for t in self.taps if t is not None)
        self.n_states = sum(t is not None for t in self.taps)
        if len(self.inner_inputs) != n_seqs + self.n_taps + n_nonseqs:
            raise ValueError(f"Scan: {len(self.inner_inputs)} inner inputs, expected "
                             f"{n_seqs} + {self.n_taps} + {n_nonseqs}")
        missing = free_inputs(self.inner_outputs, self.inner_inputs)
        if missing:
            names = ", ".join(str(v.name or v) for v in missing)
            raise ValueError(f"Scan{{{name or ''}}}: the step uses {names} but "
                             f"{'it is' if len(missing) == 1 else 'they are'} not among "
                             f"the inner inputs: pass {names} as non_sequences")
        for t in self.taps:
            if t is not None and (not t or any(k >= 0 for k in t) or len(set(t)) != len(t)):
                raise ValueError(f"Scan: state taps must be distinct negative ints, got {t}")
        rec = [j for j, t in enumerate(self.taps) if t is not None]
        for j, st in zip(rec, self._state_types()):
            out = self.inner_outputs[j]
            if out.type.dtype != st.dtype or out.type.ndim != st.ndim:
                raise TypeError(f"{self}: output {j} ({out}) of the step is {out.type}, "
                                f"but its state (outputs_info) is {st}")
        self._fn = None

    # identity semantics (see Notes)
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def short_name(self):
        return f"Scan{{{self.name}}}" if self.name else "Scan"

    # -- building --------------------------------------------------------
    def make_node(self, n_steps, *outer):
        from ..tensor.basic import as_tensor_variable, constant
        from ..tensor.type import TensorType
        from ..tensor.ops.elemwise import cast
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype not in ("int8", "int16", "int32", "int64",
                                                      "uint8", "uint16", "uint32"):
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps.type}")
        if n_steps.dtype != "int64":
            # keep a constant a constant: its value gives the static length
            n_steps = constant(int(n_steps.data), dtype="int64") \
                if isinstance(n_steps, Constant) else cast(n_steps, "int64")
        n_expected = self.n_seqs + self.n_states + self.n_nonseqs
        if len(outer) != n_expected:
            raise ValueError(f"{self}: expected {n_expected} outer inputs after n_steps, "
                             f"got {len(outer)}")
        # a non-sequence of another type (a typed list) is passed through
        outer = [v if isinstance(v, Variable) and not isinstance(v.type, TensorType)
                 else as_tensor_variable(v) for v in outer]
        seqs = outer[:self.n_seqs]
        inits = outer[self.n_seqs:self.n_seqs + self.n_states]
        nonseqs = outer[self.n_seqs + self.n_states:]
        inner_seqs = self.inner_inputs[:self.n_seqs]
        for k, (o, i) in enumerate(zip(seqs, inner_seqs)):
            if o.ndim != i.ndim + 1 or o.dtype != i.dtype:
                raise TypeError(f"{self}: sequence {k} must be {i.ndim + 1}-d {i.dtype} "
                                f"(its step is {i.type}), got {o.type}")
        state_types = self._state_types()
        for k, (o, t) in enumerate(zip(inits, state_types)):
            if o.ndim != t.ndim + 1 or o.dtype != t.dtype:
                raise TypeError(f"{self}: initial state buffer {k} must be {t.ndim + 1}-d "
                                f"{t.dtype}, got {o.type}")
        inner_ns = self.inner_inputs[self.n_seqs + self.n_taps:]
        for k, (o, i) in enumerate(zip(nonseqs, inner_ns)):
            if not isinstance(i.type, TensorType):
                if o.type != i.type:
                    raise TypeError(f"{self}: non-sequence {k} must be {i.type}, got {o.type}")
            elif o.ndim != i.ndim or o.dtype != i.dtype:
                raise TypeError(f"{self}: non-sequence {k} must be {i.type}, got {o.type}")
        n_static = int(n_steps.data) if isinstance(n_steps, Constant) else None
        out_types = []
        si = 0
        for out, t, m, f, lag in zip(self.inner_outputs, self.taps, self.keep, self.full,
                                     self.lags):
            shape = out.type.shape
            if t is not None:
                init_shape = inits[si].type.shape[1:]
                shape = tuple(a if a is not None else b for a, b in zip(shape, init_shape))
                si += 1
            lead = n_static if m is None or n_static is None else min(n_static, m)
            if f and lead is not None:
                lead += lag
            out_types.append(TensorType(out.type.dtype, shape=(lead,) + tuple(shape)))
        return Apply(self, [n_steps] + outer, [t() for t in out_types])

    def keep_last(self):
        """Per output: None (all steps are returned) or how many last steps."""
        return list(self.keep)

    def _state_types(self):
        """The type of each recurrent output's state (its first tap input)."""
        types = []
        pos = self.n_seqs
        for t in self.taps:
            if t is not None:
                types.append(self.inner_inputs[pos].type)
                pos += len(t)
        return types

    # -- running -----------------------------------------------------------
    def _compiled(self):
        # compiled once per op, on first use; the thunk is called directly, as
        # the values come from this op and are already of the right types
        if self._fn is None:
            fn = get_compiler(self.short_name())(self.inner_inputs, self.inner_outputs,
                          mode=self.mode if self.mode is not None else "py",
                          on_unused_input="ignore", name=self.short_name())
            self._fn = fn.thunk
        return self._fn

    def perform(self, node, inputs, output_storage):
        fn = self._compiled()
        n = int(inputs[0])
        if n < 0:
            raise ValueError(f"{self}: n_steps must be >= 0, got {n}")
        seqs = inputs[1:1 + self.n_seqs]
        inits = inputs[1 + self.n_seqs:1 + self.n_seqs + self.n_states]
        nonseqs = list(inputs[1 + self.n_seqs + self.n_states:])
        for k, s in enumerate(seqs):
            if s.shape[0] < n:
                raise ValueError(f"{self}: sequence {k} has {s.shape[0]} steps but the "
                                 f"loop runs {n} steps")
        bufs = []   # per recurrent output: its initial buffer then each step
        si = 0
        for t, lag in zip(self.taps, self.lags):
            if t is None:
                bufs.append(None)
                continue
            init = inits[si]
            si += 1
            if init.shape[0] != lag:
                raise ValueError(f"{self}: the initial buffer of recurrent output {si - 1} "
                                 f"has {init.shape[0]} entries, its taps {t} need {lag}")
            buf = np.empty((lag + n,) + init.shape[1:], dtype=init.dtype)
            buf[:lag] = init
            bufs.append(buf)
        stacked = [[] for _ in self.taps]
        for step in range(n):
            args = [_item(s, step) for s in seqs]
            for t, lag, buf in zip(self.taps, self.lags, bufs):
                if t is not None:
                    args.extend(_item(buf, step + lag + k) for k in t)
            outs = fn(*args, *nonseqs)
            for j, (out, buf, lag) in enumerate(zip(outs, bufs, self.lags)):
                if buf is None:
                    stacked[j].append(np.asarray(out))
                    continue
                out = np.asarray(out)
                if out.shape != buf.shape[1:]:
                    raise ValueError(
                        f"{self}: step {step} returned shape {out.shape} for recurrent "
                        f"output {j}, whose state has shape {buf.shape[1:]}; the step "
                        f"function must keep the shape of outputs_info")
                buf[lag + step] = out
        for j, (buf, lag, m) in enumerate(zip(bufs, self.lags, self.keep)):
            dtype = node.outputs[j].type.dtype
            if buf is not None:
                res = buf if self.full[j] else buf[lag:]
            elif n:
                res = np.stack(stacked[j]).astype(dtype, copy=False)
            else:
                res = np.zeros(
                    (0,) + tuple(s or 0 for s in node.outputs[j].type.shape[1:]), dtype)
            # the reference keeps every step and returns the last m
            output_storage[j][0] = res if m is None else res[len(res) - min(n, m):]

    def infer_shape(self, node, input_shapes):
        n = node.inputs[0]
        out = []
        si = 0
        outer_of = self._outer_for_inner(node)
        from ..tensor import minimum
        lead = [n + lag if f else n if m is None else minimum(n, m)
                for m, f, lag in zip(self.keep, self.full, self.lags)]
        for j, (o, t) in enumerate(zip(self.inner_outputs, self.taps)):
            if t is not None:
                out.append((lead[j],) + tuple(input_shapes[1 + self.n_seqs + si][1:]))
                si += 1
                continue
            # a size the inner graph computes: rebuild it on the first step's values
            dims = []
            for d, s in enumerate(o.type.shape):
                dims.append(s if s is not None else clone_replace(o.shape[d], outer_of))
            out.append((lead[j],) + tuple(dims))
        return out

    def _outer_for_inner(self, node):
        """{inner input: the outer value it takes at the first step}."""
        outer = node.inputs[1:]
        rep = {}
        for k in range(self.n_seqs):
            rep[self.inner_inputs[k]] = outer[k][0]
        pos, si = self.n_seqs, 0
        for t, lag in zip(self.taps, self.lags):
            if t is None:
                continue
            for k in t:
                rep[self.inner_inputs[pos]] = outer[self.n_seqs + si][lag + k]
                pos += 1
            si += 1
        for k in range(self.n_nonseqs):
            rep[self.inner_inputs[pos + k]] = outer[self.n_seqs + self.n_states + k]
        return rep

    def connection_pattern(self, node):
        """Which outer inputs each output depends on, through the step and
        the recurrence: an output depends on what its step output reads,
        and, through a state it reads, on all the state's output depends
        on (to a fixed point).  ``n_steps`` is not differentiable.  So the
        gradient to an initial state that no output reads is disconnected,
        as in Theano (``grad`` raises DisconnectedInputError)."""
        if getattr(self, "_conn", None) is None:
            self._conn = self._connections()
        return [[i in self._conn[j] for j in range(len(node.outputs))]
                for i in range(len(node.inputs))]

    def _connections(self):
        first_state, first_nonseq = 1 + self.n_seqs, 1 + self.n_seqs + self.n_states
        outer_of_inner = list(range(1, first_state))
        buffer_of_output = {}
        for j, t in enumerate(self.taps):
            if t is not None:
                buffer_of_output[j] = first_state + len(buffer_of_output)
                outer_of_inner += [buffer_of_output[j]] * len(t)
        outer_of_inner += list(range(first_nonseq, first_nonseq + self.n_nonseqs))
        output_of_buffer = {b: j for j, b in buffer_of_output.items()}
        position = {v: k for k, v in enumerate(self.inner_inputs)}
        conn = []
        for j, out in enumerate(self.inner_outputs):
            deps = {outer_of_inner[position[v]] for v in graph_inputs([out]) if v in position}
            if self.full[j]:   # the output holds its initial buffer too
                deps.add(buffer_of_output[j])
            conn.append(deps)
        # a loop to the fixed point (no recursion): reading a state means
        # depending on everything the state's own output depends on
        changed = True
        while changed:
            changed = False
            for deps in conn:
                more = set().union(*(conn[output_of_buffer[b]] for b in deps
                                     if b in output_of_buffer)) - deps
                if more:
                    deps |= more
                    changed = True
        return conn

    # -- gradient ----------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        from .grad import scan_grad
        if any(m is not None for m in self.keep) or any(self.full):
            raise NotImplementedError(f"{self}: the gradient of a scan rewritten to keep "
                                      f"only its last steps or to return its whole buffer "
                                      f"(take it before compiling)")
        return scan_grad(self, inputs, outputs, output_grads)


def _item(arr, i):
    """``arr[i]`` as an ndarray (numpy returns a scalar for a 1-d array)."""
    v = arr[i]
    return v if isinstance(v, np.ndarray) else np.asarray(v)


def free_inputs(outputs, known):
    """Owner-less, non-constant variables ``outputs`` use besides ``known``."""
    known = set(known)
    # known variables block the walk: a non-sequence computed outside the
    # step (its owner's inputs are not the step's) is itself an input
    return [v for v in graph_inputs(outputs, blockers=known)
            if v not in known and not isinstance(v, Constant) and v.owner is None]

