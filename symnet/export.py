"""``symnet.export``: a compiled function as a standalone Python module.

The module written needs only numpy and numba.  It holds the numba
backend's generated source for the function's graph and loads the values
it needs (big constants and the shared variables' current values) from an
``.npz`` file written beside it (``model_step.py`` -> ``model_step.npz``).

The exported module exposes

``step(*inputs)``
    Computes the outputs like the original function and applies the
    updates to the module's own copies of the shared values (``SHARED``, a
    dict name -> array), so repeated calls train/advance like the original.
    Returns one value for a function built with a single output, else a list.
``pure(*inputs, *shared_values)``
    The side-effect free form: returns ``(outputs, new_shared_values)``,
    ``new_shared_values`` listing every shared value in ``SHARED_NAMES``
    order (updated or not).
``INPUT_NAMES``, ``SHARED_NAMES``
    The input and shared variable names, in argument order.
"""
import os

import numpy as np

__all__ = ["export"]


_TAIL = '''

# -- standalone interface (written by symnet.export) -------------------------------
import os as _os

INPUT_NAMES = {input_names!r}
INPUT_DTYPES = {input_dtypes!r}
SHARED_NAMES = {shared_names!r}
_N_OUT = {n_out}
_SINGLE = {single}
_UPDATED = {updated!r}   # shared index receiving each update, in update order
_IN_PLACE = {in_place!r}   # the driver writes some updates into the arrays it is given

_data = _np.load(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)),
                               {npz!r}))
_consts = [_data["const%d" % _k] for _k in range({n_consts})]
SHARED = {{_n: _data["shared%d" % _k].copy() for _k, _n in enumerate(SHARED_NAMES)}}


def _perform(k, vals):
    raise RuntimeError("exported modules have no Python fallback ops")


# driver helpers that live in symnet (numba_cpu/blas.py, gemm_split.py), as
# the plain calls they equal: a transposed product's copy to C order, a
# product split over symnet's threads (here one numpy call), and the update
# tail's kernels split in row blocks over them (here one after another)
def _tcopy(a):
    return _np.ascontiguousarray(a.T)


_gsdot = _np.dot


def _ptail(calls, rows, split):
    return list(_starmap(_call, calls))


def _recover(exc, args):
    raise exc


_run = make_run(_consts, _perform, _recover)


def pure(*args):
    """``pure(*inputs, *shared_values) -> (outputs, new_shared_values)``;
    the arrays given are never changed."""
    return _invoke(args, True)


def _invoke(args, copy):
    n_in = len(INPUT_NAMES)
    if len(args) != n_in + len(SHARED_NAMES):
        raise TypeError("pure() takes %d inputs and %d shared values, got %d arguments"
                        % (n_in, len(SHARED_NAMES), len(args)))
    vals = [_np.asarray(a, dtype=d) for a, d in zip(args[:n_in], INPUT_DTYPES)]
    shared = list(args[n_in:])
    given = [_np.array(a) for a in shared] if copy and _IN_PLACE else shared
    res = _run(*vals, *given)
    new = list(shared)
    for k, v in zip(_UPDATED, res[_N_OUT:]):
        new[k] = _np.asarray(v, dtype=_np.asarray(shared[k]).dtype)
    return res[:_N_OUT], new


def step(*inputs):
    """Compute the outputs and apply the updates to ``SHARED``."""
    outs, new = _invoke(inputs + tuple(SHARED[n] for n in SHARED_NAMES), False)
    for n, v in zip(SHARED_NAMES, new):
        SHARED[n] = v
    outs = [o.copy() if isinstance(o, _np.ndarray) else o for o in outs]
    return outs[0] if _SINGLE else outs
'''


def export(f, path):
    """Write ``f`` as a standalone module at ``path`` (plus ``.npz`` data).

    Parameters
    ----------
    f : symnet.Function
        A compiled function (any mode; it is regenerated for numba).
    path : str
        The ``.py`` file to write; the data goes to the same name with
        ``.npz``.

    Returns
    -------
    str
        The path of the module written.

    Raises
    ------
    NotImplementedError
        If an op of the graph has no numba kernel or its driver line calls
        a symnet helper (random draws, convolution: it would need symnet).
    """
    from .backend.numba_cpu.linker import NumbaLinker
    linker = getattr(f.thunk, "linker", None)
    if not isinstance(linker, NumbaLinker):
        linker = NumbaLinker(f.fgraph)
    if linker.fallback_nodes:
        ops = sorted({n.op.short_name() for n in linker.fallback_nodes})
        raise NotImplementedError(f"cannot export: ops without a numba kernel: {ops}")
    if any(callable(c) for c in linker.consts):   # a Scan's or ifelse's inner graph
        raise NotImplementedError("cannot export: the graph has a Scan loop or a lazy "
                                  "ifelse, whose inner graphs are compiled functions, "
                                  "not data")
    # driver lines that call symnet's own numpy helpers (random draws, conv)
    uses = {str(linker.code.node_at(k)) for k, ln in
            enumerate(linker.driver_source.splitlines(), 1) if "from symnet." in ln}
    if uses:
        raise NotImplementedError(f"cannot export: ops whose numba implementation calls "
                                  f"symnet's helpers: {sorted(uses)}")
    path = os.fspath(path)
    if not path.endswith(".py"):
        raise ValueError(f"export path must end with .py, got {path!r}")
    npz = path[:-3] + ".npz"
    data = {}
    for k, c in enumerate(linker.consts):
        data[f"const{k}"] = np.asarray(c)
    shared_names = []
    for k, v in enumerate(f.shared_vars):
        data[f"shared{k}"] = np.asarray(v.get_value(borrow=True))
        name = v.name or f"shared{k}"
        while name in shared_names:
            name += "_"
        shared_names.append(name)
    index = {v: k for k, v in enumerate(f.shared_vars)}
    updated = [index[v] for v, _ in f.updates]
    tail = _TAIL.format(
        input_names=[v.name or f"input{k}" for k, v in enumerate(f.input_vars)],
        input_dtypes=[v.type.dtype for v in f.input_vars],
        shared_names=shared_names, n_out=len(f.outputs), single=bool(f.single),
        updated=updated, npz=os.path.basename(npz), n_consts=len(linker.consts),
        in_place=bool(linker.plan.tail))
    np.savez(npz, **data)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(linker.source + tail)
    return path
