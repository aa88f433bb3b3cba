"""DebugMode: every call cross-checked, node by node, against the reference.

``function(..., mode=DebugMode())`` (also ``mode='DebugMode'`` and, through
``symnet.compat``, ``theano.compile.debugmode.DebugMode``) compiles for the
chosen backend (``linker``, numba by default) and at every call

1. runs the backend, keeping every step's results (on numba: each kernel,
   fused loop and driver line reports them through the driver's step hook);
2. runs the same rewritten graph node by node on py, from copies of the
   arguments, and after each node checks that
   - its outputs have the dtype, rank and static shape its output types
     declare (:class:`BadOutputType`),
   - it overwrote no input its ``destroy_map`` does not list
     (:class:`BadDestroyMap`), and returned no view of an input that its
     ``view_map`` (or ``destroy_map``) does not list (:class:`BadViewMap`);
3. compares each backend step's results with py's, within per-dtype
   tolerances (:class:`BadThunkOutput` names the step, its kernel and node);
4. runs the graph as the user built it (no rewrites) on py and compares the
   outputs; on a difference it recompiles without each rewrite that fired
   until the difference goes away, and names that rewrite (:class:`BadRewrite`).

The call returns the backend's results.  DebugMode is slow by design (two or
three runs per call and a copy of every value); it is for tests and hunts.
"""
import numpy as np

from ..graph.basic import short_str
from .instrument import py_steps
from .mode import _NAMED, Mode
from .nanguardmode import NanGuardError

__all__ = ["DebugMode", "DebugModeError", "BadThunkOutput", "BadDestroyMap", "BadViewMap",
           "BadOutputType", "BadRewrite", "TOLERANCES", "debug_call",
           "BadOptimization", "InvalidValueError", "StochasticOrder", "NonFiniteValue"]

#: (rtol, atol) by dtype kind and size; integers and booleans compare exactly.
#: float32 allows for numba's fastmath (reassociated sums, approximate exp/tanh).
TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-10),
              "complex64": (1e-4, 1e-5), "complex128": (1e-7, 1e-10)}


class DebugModeError(Exception):
    """A check of DebugMode failed; ``.node`` is the node (None for a whole output)."""

    def __init__(self, msg, node=None):
        super().__init__(msg)
        self.node = node


class BadThunkOutput(DebugModeError):
    """The backend computed a different value than the py reference."""


class BadDestroyMap(DebugModeError):
    """A node overwrote an input its op's ``destroy_map`` does not declare."""


class BadViewMap(DebugModeError):
    """A node returned a view of an input its op's ``view_map`` does not declare."""


class InvalidValueError(DebugModeError):
    """A value does not fit its variable's type (Theano's name, which users
    catch): the base of :class:`BadOutputType`, and raised for a NaN or Inf
    when ``check_isfinite`` is on (that error is also the NanGuardError
    NanGuardMode raises, with the same message)."""


class BadOutputType(InvalidValueError):
    """A node's output has another dtype, rank or static shape than declared."""


class BadOptimization(DebugModeError):
    """Theano's name for a rewrite that changed what the graph computes;
    symnet raises its subclass :class:`BadRewrite`."""


class BadRewrite(BadOptimization):
    """The rewritten graph computes something else than the graph as built."""


class StochasticOrder(DebugModeError):
    """Theano's error for rewrites that give different graphs on repeated
    runs. symnet's DebugMode does not check this (its rewrites walk graphs
    in topological order, not by id), so it never raises it; the class is
    here for code that catches it."""


class DebugMode(Mode):
    """A mode that checks every node at every call (see the module doc).

    Parameters
    ----------
    linker : str
        The backend checked against py: 'numba' (default) or 'py'.
    optimizer : str or None
        As for Mode; Theano's 'fast_run' means the default pipeline.
    check_rewrites : bool
        Also run the graph without rewrites and compare (step 4).
    check_isfinite : bool
        Also run the NaN guard (NaN/Inf in any node's output is an error).
    tolerances : dict, optional
        ``{dtype: (rtol, atol)}`` overriding :data:`TOLERANCES`.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.vector('x')
    >>> f = symnet.function([x], T.exp(x) * 2, mode=DebugMode('numba'))
    >>> bool(np.allclose(f(np.array([0.0, 1.0], dtype='float32')), [2.0, 2 * np.e]))
    True
    """

    is_debug_mode = True

    def __init__(self, linker="numba", optimizer="default", include=(), exclude=(),
                 check_rewrites=True, check_isfinite=False, tolerances=None, **theano_kwargs):
        unknown = set(theano_kwargs) - {"check_py_code", "check_c_code", "stability_patience",
                                        "check_preallocated_output", "require_matching_strides"}
        if unknown:
            raise TypeError(f"DebugMode got unexpected arguments {sorted(unknown)}")
        if optimizer == "fast_run":
            optimizer = "default"
        super().__init__(linker, optimizer, include, exclude, nan_guard=bool(check_isfinite))
        self.check_rewrites = bool(check_rewrites)
        self.tolerances = dict(TOLERANCES, **(tolerances or {}))

    @property
    def step_hooks(self):
        return True

    def _key(self):
        return super()._key() + (self.check_rewrites, tuple(sorted(self.tolerances.items())))

    def debug_call(self, instrumented, args):
        """One call under this mode (``Instrumented`` calls it)."""
        try:
            return debug_call(instrumented, args)
        except NanGuardError as exc:
            if isinstance(exc, InvalidValueError):
                raise
            raise NonFiniteValue(str(exc), exc.node, exc.kind) from None


class NonFiniteValue(InvalidValueError, NanGuardError):
    """check_isfinite found a NaN, Inf or huge value: an InvalidValueError as
    in Theano's DebugMode, and still the NanGuardError symnet's guard raises
    (same message, ``.node`` and ``.kind``)."""

    def __init__(self, msg, node=None, kind=None):
        super().__init__(msg, node)
        self.kind = kind


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _node_name(node, position):
    trace = node.tag.get("trace")
    where = f" (built at {trace[0]}:{trace[1]})" if trace else ""
    names = ', '.join(short_str(v)[:30] for v in node.inputs)
    return f"node {position}: {node.op.short_name()}({names}){where}"


def mismatch(a, b, tolerances):
    """None when ``a`` and ``b`` agree, else a short description."""
    if not isinstance(a, (np.ndarray, np.generic)) and not isinstance(b, (np.ndarray, np.generic)):
        return None       # random states and other non-tensor values
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        rtol, atol = tolerances.get(str(a.dtype), (0.0, 0.0))
        close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return None
        bad = np.argwhere(~close)[0]
        idx = tuple(int(i) for i in bad)
        return (f"{int((~close).sum())} of {a.size} elements differ beyond rtol={rtol}, "
                f"atol={atol}; first at {idx}: {a[idx] if a.ndim else a[()]!r} vs "
                f"{b[idx] if b.ndim else b[()]!r}")
    if not np.array_equal(a, b):
        return f"values differ ({int((a != b).sum())} of {a.size} elements)"
    return None


def _check_type(node, position, results):
    for j, (var, value) in enumerate(zip(node.outputs, results)):
        t = var.type
        if not (hasattr(t, "dtype") and hasattr(t, "ndim") and hasattr(t, "shape")):
            continue
        arr = np.asarray(value)
        problem = None
        if str(arr.dtype) != t.dtype:
            problem = f"dtype {arr.dtype}, declared {t.dtype}"
        elif arr.ndim != t.ndim:
            problem = f"{arr.ndim} dimensions, declared {t.ndim}"
        elif any(s is not None and s != a for s, a in zip(t.shape, arr.shape)):
            problem = f"shape {arr.shape}, declared static shape {t.shape}"
        if problem:
            raise BadOutputType(f"output {j} of {_node_name(node, position)} has {problem}",
                                node)


def _check_maps(node, position, vals, snapshots, results):
    destroy = getattr(node.op, "destroy_map", None) or {}
    view = getattr(node.op, "view_map", None) or {}
    destroyed = {i for ins in destroy.values() for i in ins}
    for i, (var, val) in enumerate(zip(node.inputs, vals)):
        if i in destroyed or not isinstance(val, np.ndarray):
            continue
        before = snapshots.get(var)
        if isinstance(before, np.ndarray) and mismatch(before, val, {}) is not None:
            raise BadDestroyMap(
                f"{_node_name(node, position)} overwrote its input {i} ({short_str(var)[:30]}) "
                f"but its op declares destroy_map={destroy!r}", node)
    for j, out in enumerate(results):
        if not isinstance(out, np.ndarray) or not out.size:
            continue
        allowed = set(view.get(j, ())) | set(destroy.get(j, ()))
        for i, val in enumerate(vals):
            if i not in allowed and isinstance(val, np.ndarray) and val.size and \
                    np.may_share_memory(out, val):
                raise BadViewMap(
                    f"output {j} of {_node_name(node, position)} is a view of input {i} "
                    f"({str(node.inputs[i])[:30]}) but its op declares view_map={view!r}, "
                    f"destroy_map={destroy!r}", node)


def debug_call(inst, args):
    """One call of the Instrumented thunk ``inst`` under DebugMode."""
    mode = inst.debug
    py = inst._py_linker()
    order = {node: i for i, node in enumerate(py.order)}
    pristine = [_copy(a) for a in args]      # for the run without rewrites
    ref_args = [_copy(a) for a in args]
    snapshots = {var: _copy(val) for var, val in zip(py.fgraph.inputs, ref_args)}
    for node in py.order:
        for v in node.inputs:
            if v not in snapshots and v.owner is None:
                snapshots[v] = _copy(getattr(v, "data", None))
    reference = {}

    def visit(i, node, vals, outs, dt):
        _check_type(node, i, outs)
        _check_maps(node, i, vals, snapshots, outs)
        if inst.guard:
            from .instrument import check_results
            check_results(inst.guard, node, vals, outs, i)
        for var, value in zip(node.outputs, outs):
            # copies: a later in-place node may overwrite this buffer
            snapshots[var] = reference[var] = _copy(value)
        return outs
    ref_results = py_steps(py, ref_args, visit)
    # the backend second: the reference ran on copies of the arguments, so an
    # op that overwrites what it should not is caught before it harms them
    captured = None
    if inst.backend == "numba":
        inst._capture, inst._fail = {}, None
        try:
            results = inst.inner(*args)
            captured = inst._capture
        finally:
            inst._capture = None
        if inst._fail is not None and inst.guard:
            raise inst._refine(inst._locate(args), args)
    if captured is not None:
        _compare_steps(inst, captured, reference, order, mode.tolerances)
        for k, (a, b) in enumerate(zip(results, ref_results)):
            diff = mismatch(a, b, mode.tolerances)
            if diff:
                raise BadThunkOutput(f"output {k} of the numba run differs from py: {diff}")
    else:
        results = ref_results
    if mode.check_rewrites and inst.original is not None:
        _check_rewrites(inst, pristine, ref_results, mode)
    return results


def _compare_steps(inst, captured, reference, order, tolerances):
    for k, (nodes, out_vars, kind, kname, line) in enumerate(inst.steps):
        what = f"kernel {kname}" if kname else kind
        for var in out_vars:
            if var not in captured or var not in reference:
                continue
            try:
                _check_type(var.owner, order[var.owner],
                            [captured.get(v, reference.get(v)) for v in var.owner.outputs])
            except BadOutputType as exc:
                raise BadOutputType(f"numba step {k} ({what}: {line}): {exc}",
                                    var.owner) from None
            diff = mismatch(captured[var], reference[var], tolerances)
            if diff:
                raise BadThunkOutput(
                    f"numba step {k} ({what}: {line}) computed {var} differently from "
                    f"py: {diff}\n  " + "\n  ".join(_node_name(n, order[n]) for n in nodes),
                    var.owner)


def _run_graph(inputs, outputs, args, mode=None):
    from ..backend.py.linker import PyLinker
    from ..graph.fg import FunctionGraph
    fg = FunctionGraph(inputs, outputs)
    if mode is not None:
        mode.rewrite(fg)
    with np.errstate(all="ignore"):
        return PyLinker(fg)(*[_copy(a) for a in args])


def _check_rewrites(inst, args, results, mode):
    """Step 4: the graph as built agrees with the rewritten one, where the
    former is finite (stability rewrites turn its Infs/NaNs into numbers)."""
    with np.errstate(all="ignore"):
        plain = inst.original_linker()(*[_copy(a) for a in args])
    diffs = []
    for k, (a, b) in enumerate(zip(results, plain)):
        if isinstance(b, np.ndarray) and b.dtype.kind in "fc":
            keep = np.isfinite(b)
            a, b = np.where(keep, a, 0), np.where(keep, b, 0)
        diff = mismatch(a, b, mode.tolerances)
        if diff:
            diffs.append((k, diff))
    if not diffs:
        return
    k, diff = diffs[0]
    inputs, outputs = inst.original
    culprit = None
    for name in sorted(inst.rewrite_stats):
        trial = _run_graph(inputs, outputs, args, mode.excluding(name))
        if mismatch(trial[k], plain[k], mode.tolerances) is None:
            culprit = name
            break
    blame = f"; without the rewrite {culprit!r} they agree" if culprit else \
        "; no single rewrite explains it"
    raise BadRewrite(f"output {k} of the rewritten graph ({outputs[k]}) differs from the "
                     f"graph as built: {diff}{blame}")


_NAMED["DebugMode"] = _NAMED["DEBUG_MODE"] = DebugMode
