"""Products in the numba backend's driver: ``Dot`` and ``BatchedDot`` are
numpy lines (``np.dot``/``np.matmul`` call BLAS; a numba kernel would call
the same BLAS and only add compile time).

``x @ w.T`` with few rows in ``x`` (a backward pass's ``g @ W.T`` at a
small batch) is computed as ``(w @ x.T).T``: the same product, asked of
BLAS the other way round.  OpenBLAS (numpy 2's build, 2 cores, AMD EPYC)
ran the second form faster at these shapes, even counting the copy a
C-contiguous consumer then makes, and slower where ``x`` has many rows or
the inner dimension is small (minimum of 60 calls, 2 BLAS threads, in us):

    x rows, w rows, inner   x @ w.T   (w @ x.T).T   + copy to C order
    64,  500, 500             222         180           200
    64,  784, 500             339         270           301
    32,  256, 1024            210         111           116
    64,  500, 10               12          11            30
    256, 256, 256             277         276           333
    512, 500, 500            1317        1311          1882

hence the rule in ``_SWAP`` (rows <= a quarter of w's rows, inner >= 128).

BLAS's result is then the transpose of a C-contiguous array; ``tcopy``
(``lib/transpose.py``) copies it to C order, which the kernel after it (W1's
relu gradient) needs: 12 us at 64x500 against 22 us for numpy's
``ascontiguousarray``, which the driver's ``_C`` used to pay there (30-40
us inside W1's step).

Re-measured in round 13 (numpy 2.4's OpenBLAS 0.3.31, 2 BLAS threads,
minimum of 40 calls in each of 4 rounds, bench lock, load 1.3-1.9), in us,
``x @ w.T`` against ``tcopy(w @ x.T)``:

    x rows, w rows, inner   x @ w.T   (w @ x.T).T + tcopy
    16,  500, 500             74           69
    32,  256, 1024           122          118
    64,  500, 500            199          208     (W1's ``g @ W1.T``)
    64,  784, 500            309          310
    64, 1000, 500            388          401
    128, 500, 500            370          397
    64, 4608, 256            972         1905

The swap now gains only at a few rows and loses 2x at 64 x 4608 x 256 (a
dense layer's input gradient in a step off the pool), so it also needs
at most ``SWAP_MAX_ROWS`` rows in ``x``.

A scan step's driver (``Mode.scan_step``) calls ``step_dot.dot`` (``_sdot``)
instead of ``np.dot``: where numpy's BLAS runs one thread, a few-row
product by a weight runs as small GEMMs that OpenBLAS does not repack.

Inside njit code (a graph or a scan loop compiled whole, ``njit_driver.py``)
the same lines call ``lib/cblas.py``'s GEMM instead of ``np.dot``.  In a
step whose ops split their work over the pool (``step_pool.py``: numpy's
BLAS then runs one thread throughout) they call ``step_pool.dot``, which
splits a large product into row or column blocks over the pool and
applies the swap above itself, at run time; in a dense training
step (``gemm_split.chosen``) they call ``gemm_split.pdot`` (``_gsdot``),
which splits it over symnet's threads, BLAS held at one.
"""
from .dispatch import driver_op
from ...tensor.ops.blas import BatchedDot, Dot
from ...tensor.ops.elemwise import DimShuffle

__all__ = ["tcopy"]

_TCOPY = []


def tcopy(a):
    """``np.ascontiguousarray(a.T)`` for a 2-D ``a`` (``lib/transpose.py``),
    imported with numba on the first call, not when a graph is compiled;
    the Python driver calls it as ``_tcopy``."""
    if not _TCOPY:
        from .lib.transpose import tcopy as fn
        _TCOPY.append(fn)
    return _TCOPY[0](a)


def _cast(expr, node):
    """``expr`` converted to the output dtype when numpy's result may differ."""
    dt = node.outputs[0].type.dtype
    if all(v.type.dtype == dt for v in node.inputs):
        return expr
    if node.outputs[0].type.ndim == 0:
        return f"_np.{dt}({expr})"
    return f"({expr}).astype(_np.{dt}, copy=False)"


# when ``x @ y``, y a transposed view, runs as ``(y.T @ x.T).T`` (module doc):
# x's rows at most 1/SWAP_RATIO of y's columns, an inner size of SWAP_MIN_INNER
# or more; ``step_pool.dot`` applies the first two at run time (its products
# split over the pool, measured apart); the driver off the pool also needs at
# most SWAP_MAX_ROWS rows (the module doc's round 13 table)
SWAP_RATIO, SWAP_MIN_INNER, SWAP_MAX_ROWS = 4, 128, 32
_SWAP = f"{{x}}.shape[0] * {SWAP_RATIO} <= {{y}}.shape[1] and {{x}}.shape[1] >= {SWAP_MIN_INNER}" \
    f" and {{x}}.shape[0] <= {SWAP_MAX_ROWS}"


def _is_transpose(v):
    return v.owner is not None and isinstance(v.owner.op, DimShuffle) \
        and v.owner.op.new_order == (1, 0)


def _dot_in_njit(node):
    """Whether ``Dot``'s lines may run inside njit code (see njit_driver.py):
    2-D float32/float64 matrices of one dtype, and a CBLAS gemm found."""
    vs = node.inputs + node.outputs
    if any(v.type.ndim != 2 for v in vs) or \
            len({v.type.dtype for v in vs} | {"float32", "float64"}) != 2:
        return False
    from .lib import cblas
    cblas.note_missing("a graph with a Dot run as one njit function")
    return cblas.AVAILABLE


@driver_op(Dot, njit=_dot_in_njit)
def dot_driver(node, ins, outs, writer=None):
    x, y = ins
    # a step whose ops use the pool splits its products over it (step_pool.dot);
    # a large dense training step over symnet's threads too (gemm_split.chosen)
    split = getattr(writer, "split", False) and node.outputs[0].type.ndim == 2
    dot = "_pdot" if getattr(writer, "pool", False) else "_gsdot" if split else "_np.dot"
    # a scan step's few-row product by a weight, as small GEMMs where BLAS
    # runs one thread (step_dot.py)
    plain_dot = "_sdot" if dot == "_np.dot" and _in_step(writer) else dot
    given = getattr(writer, "dest", None)
    if given is not None and dot == "_np.dot" and all(v.type.ndim == 2 for v in node.inputs) \
            and len({v.type.dtype for v in node.inputs + node.outputs}) == 1:
        dest = given(node.outputs[0])    # a scan step's output: into the loop's buffer
        if dest is not None:
            return [f"{outs[0]} = {plain_dot}({x}, {y}, out=_into({dest}, ({x}.shape[0], "
                    f"{y}.shape[1]), _np.{node.outputs[0].type.dtype}))"], True
    plain = f"{outs[0]} = {_cast(f'{plain_dot}({x}, {y})', node)}"
    lazy = getattr(writer, "lazy_lines", None)
    if dot == "_pdot" and plain == f"{outs[0]} = _pdot({x}, {y})" and lazy is not None:
        # the same product left for the update tail (inplace._lazy_products)
        lazy[node.outputs[0]] = (plain, f"{outs[0]} = _plazy({x}, {y})")
    if node.inputs[0].type.ndim == 2 and _is_transpose(node.inputs[1]) \
            and not getattr(writer, "pool", False):     # _pdot decides it at run time
        # both branches give a C-contiguous result (the module doc)
        swapped = f"{outs[0]} = {_cast(f'_tcopy({dot}({y}.T, {x}.T))', node)}"
        return [f"if {_SWAP.format(x=x, y=y)}:", f"    {swapped}", "else:",
                f"    {plain}"], True
    return [plain], node.outputs[0].type.ndim > 0


dot_driver.takes_writer = True


def _in_step(writer):
    """Whether ``writer`` writes a scan step's driver (``Mode.scan_step``);
    njit code reads its ``_sdot`` as its own GEMM (``njit_driver.py``)."""
    return bool(getattr(getattr(writer, "mode", None), "scan_step", False))


@driver_op(BatchedDot)
def batched_dot_driver(node, ins, outs):
    (x, y), (xv, yv) = ins, node.inputs
    lines = [f"if {x}.shape[0] != {y}.shape[0]:",
             "    raise ValueError('batched_dot: batch sizes differ')"]
    a = x if xv.type.ndim == 3 else f"{x}[:, None, :]"
    b = y if yv.type.ndim == 3 else f"{y}[:, :, None]"
    expr = f"_np.matmul({a}, {b})"
    if xv.type.ndim == 2:
        expr += "[:, 0]"
    if yv.type.ndim == 2:
        expr += "[..., 0]"
    return lines + [f"{outs[0]} = {_cast(expr, node)}"], False
