"""The shared test oracle: one call checks an op on every backend.

``check_op(fn, inputs, ref=np_fn)`` builds ``fn`` on symbolic inputs shaped
like the given numpy arrays, then

1. runs the graph on every registered backend (``py``, ``numba``; each with
   the standard rewrites, plus ``py`` without rewrites) and compares each
   result with ``ref`` applied to the arrays (or, without ``ref``, with the
   ``py`` backend run without rewrites);
2. checks each output's dtype and static shape against its symbolic type;
3. checks ``infer_shape`` of *every* node in the graph against the shapes
   the nodes really produce (symbolic shape entries are evaluated);
4. optionally checks the gradient against central finite differences
   (``grad=True``, float64) and the gradient of the gradient (``grad2=True``).

Per-op tests are then one line each::

    check_op(T.exp, [rand((3, 4))], ref=np.exp, grad=True)

Other helpers: ``rand`` makes random arrays of a dtype, ``backends()`` lists
the backends checked, ``modes()`` the Mode objects used.
"""
import os

import numpy as np

import symnet
from symnet import tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort

# Set when the whole suite runs on one compiled backend (``SYMNET_FORCE_BACKEND``,
# see ``symnet.compile.mode.get_mode``): every drawn graph then costs kernel
# compiles instead of a few numpy calls.
FORCED_BACKEND = os.environ.get("SYMNET_FORCE_BACKEND") or None
FORCED_MAX_EXAMPLES = 3


def examples(n):
    """A hypothesis ``max_examples``: ``n`` in the reference run, at most
    ``FORCED_MAX_EXAMPLES`` in a forced-backend run, whose job is to run every
    test's code path on that backend (the reference run draws the full
    count; backend-against-py agreement has its own drawn tests)."""
    return min(n, FORCED_MAX_EXAMPLES) if FORCED_BACKEND else n

__all__ = ["check_op", "check_grad", "check_infer_shape", "rand", "backends", "modes",
           "examples", "FORCED_BACKEND",
           "default_tol"]


def backends():
    """Names of the backends every op is checked on (registered CPU ones).

    ``cuda`` is included only when its linker is importable and a GPU is
    present, so the suite runs anywhere.
    """
    from symnet.backend import registry
    import symnet.backend.py.linker  # noqa: F401  (registers 'py')
    import symnet.backend.numba_cpu.linker  # noqa: F401  (registers 'numba')
    names = [b for b in ("py", "numba") if b in registry.LINKERS]
    try:  # the GPU backend only where a device exists
        from numba import cuda
        if cuda.is_available():
            import symnet.backend.cuda.linker  # noqa: F401
            if "cuda" in registry.LINKERS:
                names.append("cuda")
    except Exception:
        pass
    return names


def modes():
    """Each backend with the standard rewrites, plus py without any (in a
    forced-backend run, 'py' with rewrites *is* the forced backend: listed once)."""
    from symnet.compile.mode import get_mode
    found = []
    for m in [Mode(b) for b in backends()] + [Mode("py", optimizer=None)]:
        if get_mode(m) not in [get_mode(f) for f in found]:
            found.append(m)
    return found


def default_tol(dtype):
    """(rtol, atol) suited to a dtype's precision."""
    return {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5),
            "complex64": (1e-4, 1e-5)}.get(str(dtype), (1e-7, 1e-9))


def rand(shape, dtype="float64", rng=None, low=-1.0, high=1.0):
    """A random array: uniform in [low, high) for floats, integers in
    [low, high] for integer dtypes, random booleans for bool."""
    rng = np.random.default_rng(0) if rng is None else rng
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dt)
    return rng.uniform(low, high, size=shape).astype(dt)


def _symbolic_inputs(inputs, static_shapes):
    out = []
    for k, a in enumerate(inputs):
        a = np.asarray(a)
        shape = a.shape if static_shapes else tuple(1 if s == 1 else None for s in a.shape)
        out.append(T.TensorType(a.dtype, shape=shape)(f"in{k}"))
    return out


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _compare(got, want, rtol, atol, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != expected {want.shape}"
    if got.dtype.kind in "fc" or want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def check_op(fn, inputs, ref=None, grad=False, grad2=False, rtol=None, atol=None,
             modes=None, static_shapes=False, infer_shape=True, check_dtype=True,
             grad_tol=None, eps=None):
    """Check ``fn`` on every backend, its shapes and (optionally) gradients.

    Parameters
    ----------
    fn : callable
        Takes one symbolic variable per array in ``inputs`` and returns a
        variable or a list of variables.
    inputs : list of numpy arrays
        The test values; their dtypes (and ndims) define the symbolic inputs.
        Sizes are left unknown to the graph (except size-1 axes, which are
        broadcastable) unless ``static_shapes=True``.
    ref : callable, optional
        The numpy reference, called with (copies of) the arrays; returns an
        array or a list.  Without it, the py backend without rewrites is
        the reference.
    grad, grad2 : bool
        Also check first (and second) order gradients with
        ``symnet.gradient.verify_grad`` on float64 copies of the inputs
        (only float inputs are differentiated; the first output is used).
    rtol, atol : float, optional
        Tolerances; by default from the output dtype (``default_tol``).
    modes : list of str or Mode, optional
        Where to run; default ``oracles.modes()``.
    static_shapes : bool
        Give the symbolic inputs the arrays' full static shapes.
    infer_shape : bool
        Check every node's ``infer_shape`` against real shapes.
    check_dtype : bool
        Each output's dtype must equal its symbolic type's dtype.

    Returns
    -------
    list of numpy arrays
        The py results, for further assertions.
    """
    inputs = [np.asarray(a) for a in inputs]
    sym = _symbolic_inputs(inputs, static_shapes)
    outs = _as_list(fn(*sym))
    outs = [T.as_tensor_variable(o) for o in outs]
    if ref is not None:
        expected = _as_list(ref(*[a.copy() for a in inputs]))
    else:
        f = symnet.function(sym, outs, mode=Mode("py", optimizer=None),
                            on_unused_input="ignore")
        expected = f(*[a.copy() for a in inputs])
    assert len(expected) == len(outs), \
        f"fn gave {len(outs)} outputs but the reference {len(expected)}"
    results = None
    for mode in (modes if modes is not None else globals()["modes"]()):
        mode = mode if isinstance(mode, Mode) else Mode(mode)
        f = symnet.function(sym, outs, mode=mode, on_unused_input="ignore")
        args = [a.copy() for a in inputs]
        got = f(*args)
        for a, b in zip(args, inputs):
            np.testing.assert_array_equal(a, b, err_msg=f"{mode}: an input was modified")
        for k, (o, g, e) in enumerate(zip(outs, got, expected)):
            what = f"output {k} on {mode}"
            g = np.asarray(g)
            if check_dtype:
                assert g.dtype == np.dtype(o.dtype), \
                    f"{what}: dtype {g.dtype} but the graph says {o.dtype}"
            for axis, s in enumerate(o.type.shape):
                assert s is None or g.shape[axis] == s, \
                    f"{what}: static shape {o.type.shape} but got {g.shape}"
            r, a = default_tol(o.dtype)
            _compare(g, e, rtol if rtol is not None else r, atol if atol is not None else a,
                     what)
        if results is None:
            results = [np.asarray(g) for g in got]
    if infer_shape:
        check_infer_shape(sym, outs, inputs)
    if grad or grad2:
        check_grad(fn, inputs, second_order=grad2, tol=grad_tol, eps=eps)
    return results


def check_infer_shape(sym_inputs, outputs, values):
    """Every node's ``infer_shape`` between ``sym_inputs`` and ``outputs``
    must give the shapes the node really produces on ``values`` (py)."""
    from symnet.tensor.ops.shape import shape_i
    nodes = io_toposort(sym_inputs, outputs)
    targets, entries = [], []
    for node in nodes:
        in_shapes = [tuple(shape_i(v, i) for i in range(v.ndim)) for v in node.inputs]
        if not hasattr(node.op, "infer_shape"):
            raise AssertionError(f"{type(node.op).__name__} has no infer_shape")
        shapes = node.op.infer_shape(node, in_shapes)
        assert len(shapes) == len(node.outputs), \
            f"{node.op}.infer_shape gave {len(shapes)} shapes for {len(node.outputs)} outputs"
        for o, shp in zip(node.outputs, shapes):
            assert len(shp) == o.ndim, \
                f"{node.op}.infer_shape gave {len(shp)} entries for a {o.ndim}-d output"
            targets.append((node, o))
            entries.append([T.as_tensor_variable(s) if not isinstance(s, (int, np.integer))
                            else int(s) for s in shp])
    if not targets:
        return
    sym_entries = [e for es in entries for e in es if not isinstance(e, int)]
    f = symnet.function(sym_inputs, [o for _, o in targets] + sym_entries,
                        mode=Mode("py", optimizer=None), on_unused_input="ignore")
    res = f(*[np.array(v, copy=True) for v in values])
    real, sym_vals = res[: len(targets)], iter(res[len(targets):])
    for (node, o), es, r in zip(targets, entries, real):
        inferred = tuple(e if isinstance(e, int) else int(next(sym_vals)) for e in es)
        assert inferred == np.shape(r), \
            f"{node.op}.infer_shape says {inferred} but the output has shape {np.shape(r)}"


def check_grad(fn, inputs, second_order=False, tol=None, eps=None, n_tests=1):
    """Symbolic gradients of ``fn`` (first output) against finite
    differences, at float64 copies of ``inputs``; with ``second_order``, the
    gradient of the gradient too."""
    from symnet.gradient import verify_grad
    pt = [np.asarray(a, dtype="float64") if np.asarray(a).dtype.kind == "f"
          else np.asarray(a) for a in inputs]
    tol = 1e-4 if tol is None else tol
    rng = np.random.RandomState(1)

    def first(*xs):
        return _as_list(fn(*xs))[0]
    verify_grad(first, pt, n_tests=n_tests, rng=rng, eps=eps, abs_tol=tol, rel_tol=tol,
                mode="py")
    if second_order:
        floats = [k for k, a in enumerate(pt) if a.dtype.kind == "f"]

        def grad_of(*xs):
            out = first(*xs)
            proj = np.random.RandomState(2).uniform(-1, 1, size=_shape_of(fn, pt))
            g = symnet.grad(T.sum(out * T.constant(proj)), [xs[k] for k in floats],
                            disconnected_inputs="ignore")
            return sum(T.sum(gk * T.constant(np.random.RandomState(3 + j).uniform(
                -1, 1, size=pt[floats[j]].shape))) for j, gk in enumerate(g))
        verify_grad(grad_of, pt, n_tests=n_tests, rng=rng, eps=eps or 1e-5,
                    abs_tol=tol * 10, rel_tol=tol * 10, mode="py")


def _shape_of(fn, pt):
    sym = _symbolic_inputs(pt, False)
    f = symnet.function(sym, _as_list(fn(*sym))[0], mode="py", on_unused_input="ignore")
    return np.shape(f(*pt))
