"""Convolution in the numba backend: ``Conv2d`` and its two gradients as
im2col plus BLAS GEMMs over chunks of the batch.

Each op is one driver line calling a function of this module.  A compiled
numba loop (``lib/conv_loops.py``) fills the column matrix of a chunk of images
(``(chunk, C*kh*kw, Ho*Wo)``; the zero border is written, never a padded
copy of the input), then

- forward: ``W (K, C*kh*kw) @ cols[b]``, in the output's (K, Ho, Wo)
  layout;
- gradient wrt the filters: ``gz[b] @ cols[b].T`` summed over the batch;
- gradient wrt the input: ``W.T @ gz[b]`` gives the columns, which the
  adjoint loop (``col2im``) adds back into the input's shape.

Each GEMM is done one of two ways, by the number of output positions:
with many (``PER_IMAGE_POSITIONS``: a first layer, 24x24 outputs), one
GEMM per image on a column block per image (a batched ``matmul``
straight into the output, reading ``gz`` in place: no transposed copy of
the output or of ``gz``, no temporary); with few (8x8 outputs, deep and
wide filters), per-image GEMMs are too small for BLAS to run well, so one
GEMM per chunk works on the columns laid out (C*kh*kw, m*Ho*Wo), at the
price of transposing the output or ``gz`` (small there).

The chunk is as many images as fit ``COLUMN_BUDGET`` bytes of columns (at
least one), so a large batch never allocates its whole column matrix: the
memory beyond the inputs and the result is bounded.  In the per-image
layout it is also capped at ``CACHE_CHUNK`` bytes, so the columns are
still in cache when the GEMMs read them; in the per-chunk layout, at
``SERIAL_CHUNK`` bytes when BLAS runs one thread (``blas_threads()``), where
many small GEMM calls cost no synchronisation of BLAS's threads.  GEMMs are numpy's BLAS
calls (numba's ``np.dot`` would call the same BLAS and needs SciPy).
The column loops run threaded where ``threads.lib_threads()`` says so
(off by default).  Where the step's pool has two threads or more
(``threads.pool_threads()``), the per-chunk layout instead splits the
batch over them (``conv_threads.py``: im2col, a one-thread GEMM and the
pass after it per chunk, on every core), and so does the per-image layout
(``SPLIT_PER_IMAGE``); the driver of a step with such an op holds numpy's
BLAS at one thread throughout (``step_pool.py``: the templates below say
``uses_pool``).
"""
import numpy as np

from .dispatch import driver_op
from .threads import lib_threads
from ...tensor.ops.conv import (Conv2d, Conv2dGradInputs, Conv2dGradWeights, _padding,
                                conv_output_length, group_slices)

__all__ = ["COLUMN_BUDGET", "CACHE_CHUNK", "SERIAL_CHUNK", "blas_threads", "column_chunk",
           "conv2d_forward", "conv2d_grad_weights", "conv2d_grad_inputs"]

#: bytes of im2col columns one chunk of the batch may use
COLUMN_BUDGET = 32 * 2 ** 20

#: bytes of columns a chunk of the per-image layout holds at most when the
#: budget allows more: its columns are still in cache (L2 1 MiB a core, L3
#: 32 MiB here) when the GEMMs read them.  Measured on W7's first layer
#: (thread CPU time, one BLAS thread, 256 images), 32 -> 4 MiB chunks:
#: forward 5.2 -> 4.4 ms, filter gradient 5.6 -> 4.7 ms; the GEMM calls
#: are one per image either way.  Not applied to the per-chunk layout:
#: there it saved more CPU (W7's conv2: forward 28 -> 23 ms, each gradient
#: 28 -> 23.5-25 ms, one BLAS thread) but made 13 GEMM calls of each
#: one, every call a synchronisation of BLAS's threads, and with two BLAS
#: threads and other processes busy on the 2 cores W7's step took 2x as
#: long as with 2 calls (755 against 368 ms, PyTorch 395-425 ms alongside)
CACHE_CHUNK = 4 * 2 ** 20

#: bytes of columns a chunk of the per-chunk layout holds at most when
#: BLAS runs one thread (``symnet train``'s default): then a GEMM call costs
#: no synchronisation of threads, and small chunks keep the columns in L2
#: between im2col and the GEMM (and between the GEMM and col2im).  W7's
#: conv2, one BLAS thread, thread CPU time of its three ops, contended
#: machine, best of 2: 32 MiB 88.4 ms, 4 MiB 75.6, 2 MiB 72.2, 1 MiB 69.5.
#: Also each pool thread's chunk (``_split``).  Again with the step's pool
#: (BLAS held at one thread), W7's step interleaved in one process, medians
#: of medians of 5 rounds, 2 cores under load 3-4.5: 1 MiB 87.3 ms against
#: 2 MiB 107.7 ms; at load 4.4 (one core in effect, wall = CPU): 1 MiB
#: 100.4, 2 MiB 94.3, 512 KiB 103.1 ms: kept
SERIAL_CHUNK = 1 * 2 ** 20

#: output positions (Ho*Wo) from which GEMMs run per image: measured on
#: W4/W7's layers (thread CPU time, one BLAS thread), per image was faster
#: at 576 positions in all three products and slower at 64 (gradients)
PER_IMAGE_POSITIONS = 256


#: whether a layer with many output positions (the per-image layout: W4/W7's
#: first layer) also splits its batch over the pool (``_split``;
#: ``lib/conv_par.py``'s ``*_image_chunks``: each thread's chunks in the
#: per-image layout, one one-thread GEMM per image and the epilogue on its
#: block).  Its per-image GEMMs (32x25x576) are too small for BLAS to
#: thread, so without it the layer runs on one core.  Measured with the
#: step's pool (BLAS held at one thread; the old numbers were taken with
#: BLAS's worker spinning on the second core), interleaved in one process,
#: medians of medians of 5 rounds, 2 cores under load 3-4 from other work:
#: W4's step 9.99 / 9.09 ms split against 11.15 / 11.45 ms not (two runs),
#: W7's 87.3 against 99.6 ms (``bench/ab_conv.py`` A/Bs it)
SPLIT_PER_IMAGE = True


#: bytes of columns from which a chunk's im2col/col2im runs threaded (when
#: ``threads.lib_threads()``), so that small chunks do not wake threads for
#: a few microseconds of work; a guess, not measured (threads are off by
#: default): W7's chunks hold 4 MiB (first layer) and 32 MiB (second)
THREAD_MIN_BYTES = 1 << 20


def column_chunk(batch, rows, cols, itemsize, budget=None):
    """How many images one chunk holds: the most whose column matrix
    (``rows * cols`` items each) fits ``budget`` bytes, at least 1."""
    budget = COLUMN_BUDGET if budget is None else budget
    per_image = max(1, rows * cols * itemsize)
    return int(max(1, min(batch, budget // per_image)))


def _alloc(shape, dtype):
    """The column buffer of one chunk (a function so tests can watch sizes)."""
    return np.empty(shape, dtype)


class _Geometry:
    """Sizes of one convolution: pads, output size, strides, dilation."""

    def __init__(self, in_hw, k_hw, border_mode, stride, dil):
        self.k = tuple(int(k) for k in k_hw)
        self.pad = _padding(border_mode, self.k, dil)
        self.stride, self.dil = stride, dil
        self.in_hw = tuple(int(n) for n in in_hw)
        self.out = tuple(conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                         zip(self.in_hw, self.k, self.pad, stride, dil))


def _flat_filters(w, flip, dtype):
    """Filters as a (K, C*kh*kw) matrix, flipped for a true convolution."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    return np.ascontiguousarray(w, dtype=dtype).reshape(w.shape[0], -1)


def _chunks(geo, b, c, dtype, budget, per_image=False):
    """``(b0, m, cols)`` for each chunk of the batch: ``cols`` is the
    chunk's column matrix, C-contiguous, (C*kh*kw, m*Ho*Wo) or, with
    ``per_image``, (m, C*kh*kw, Ho*Wo) (one block per image).  One buffer,
    sized by ``column_chunk``, serves every chunk."""
    rows, npos = c * geo.k[0] * geo.k[1], geo.out[0] * geo.out[1]
    budget = COLUMN_BUDGET if budget is None else budget
    if per_image:
        budget = min(budget, CACHE_CHUNK)
    elif blas_threads() == 1:
        budget = min(budget, SERIAL_CHUNK)
    n = column_chunk(b, rows, npos, np.dtype(dtype).itemsize, budget)
    buf = _alloc((rows * n * npos,), dtype)
    for b0 in range(0, b, n):
        m = min(n, b - b0)
        shape = (m, rows, npos) if per_image else (rows, m * npos)
        yield b0, m, buf[:rows * m * npos].reshape(shape)


def blas_threads():
    """How many threads numpy's OpenBLAS runs now (it may change while the
    process runs: ``symnet train`` sets it, a step using the pool holds it
    at one), or None when that cannot be asked (another BLAS, no CBLAS
    found)."""
    from . import step_pool
    return step_pool.blas_count()


def _threads():
    """``conv_threads.py``: the per-chunk layout split over threads."""
    from . import conv_threads
    return conv_threads


def _split(geo, b, c, dtype, budget, per_image):
    """``(nt, m, cols)`` for the per-chunk layout split over ``nt`` threads
    (``conv_threads.chunk_threads``), ``m`` images a chunk, ``cols`` the
    threads' (nt, C*kh*kw*m*Ho*Wo) column buffers: each at most
    ``SERIAL_CHUNK`` bytes (in L2 between im2col, the GEMM and the pass
    after it), all within the budget; ``nt`` 0 for the serial path."""
    if per_image and not SPLIT_PER_IMAGE:
        return 0, 0, None
    rows, npos = c * geo.k[0] * geo.k[1], geo.out[0] * geo.out[1]
    item = np.dtype(dtype).itemsize
    nt = _threads().chunk_threads(b * rows * npos * item)
    if not nt:
        return 0, 0, None
    budget = COLUMN_BUDGET if budget is None else budget
    per_thread = max(1, min(budget // nt, SERIAL_CHUNK))
    m = column_chunk(-(-b // nt), rows, npos, item, per_thread)
    return nt, m, _alloc((nt, rows * m * npos), dtype)


def _loops():
    """The compiled im2col/col2im loops (``lib/conv_loops.py``), imported on
    first use: building a graph never imports numba (``cache.py``)."""
    from .lib import conv_loops
    return conv_loops


def _direct():
    """``conv_direct.py`` (its routing and loops), imported on first use
    (it imports nothing of this module: no import cycle)."""
    from . import conv_direct
    return conv_direct


def _threaded(cols):
    """Whether the chunk whose columns are ``cols`` runs the threaded loops:
    when ``threads.lib_threads()`` allows threads and the chunk holds at
    least ``THREAD_MIN_BYTES`` of columns."""
    return cols.nbytes >= THREAD_MIN_BYTES and lib_threads()


def _as_images(cols, m):
    """The columns of a chunk of ``m`` images as (m, C*kh*kw, Ho*Wo): the
    per-image layout itself, a view of the per-chunk one (the threaded
    loops split the images)."""
    return cols if cols.ndim == 3 else cols.reshape(cols.shape[0], m, -1).transpose(1, 0, 2)


def _fill(xs, cols, geo):
    """im2col of the chunk ``xs`` into ``cols`` (either layout)."""
    loops, args = _loops(), _loop_args(geo)
    if _threaded(cols):
        loops.im2col_images_threads(xs, _as_images(cols, xs.shape[0]), *args)
    elif cols.ndim == 3:
        loops.im2col_images(xs, cols, *args)
    else:
        loops.im2col(xs, cols, *args)


def _add_back(cols, out, geo):
    """col2im: ``out`` (the chunk's input gradient) from ``cols`` (either layout)."""
    loops, args = _loops(), _loop_args(geo)
    if _threaded(cols):
        loops.col2im_images_threads(_as_images(cols, out.shape[0]), out, *args)
    elif cols.ndim == 3:
        loops.col2im_images(cols, out, *args)
    else:
        loops.col2im(cols, out, *args)


def _loop_args(geo):
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = geo.k, geo.stride, geo.dil, geo.pad
    return kh, kw, sh, sw, dh, dw, ph, pw, geo.out[0], geo.out[1]


def _by_image(z, m, k, npos, dtype):
    """The chunk's (m, K, Ho, Wo) gradient as a (K, m*Ho*Wo) matrix."""
    return np.ascontiguousarray(z.reshape(m, k, npos).transpose(1, 0, 2),
                                dtype=dtype).reshape(k, m * npos)


def _check_out(geo, what):
    if min(geo.out) <= 0:
        raise ValueError(f"{what}: filters of size {geo.k} do not fit the input "
                         f"{geo.in_hw} (padding {geo.pad}, dilation {geo.dil})")


def conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, groups=1, budget=None,
                   epilogue=None):
    """``Conv2d``: ``x`` (B, C, H, W) with filters ``w`` (K, C / groups, kh, kw).

    ``epilogue(out, res, b0, m)`` (ungrouped only; ``conv_fused.py``) is
    called after each chunk's GEMM, while its result is in cache: ``res``
    None when the GEMM wrote images ``b0:b0+m`` of ``out`` itself, else the
    chunk's (K, m*Ho*Wo) result, which the epilogue then writes out.  The
    per-chunk layout split over threads (``conv_threads.forward``) and a
    convolution ``conv_direct.use_direct`` takes apply it in their own
    output pass instead, from the epilogue's ``b``, ``code`` and ``keep``,
    and set its ``s``."""
    if groups > 1:
        if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1] * groups \
                or w.shape[0] % groups:
            raise ValueError(f"conv2d: input of shape {x.shape} and filters {w.shape} do "
                             f"not split into num_groups={groups} groups")
        out = np.empty((x.shape[0], w.shape[0]) + _Geometry(
            x.shape[2:], w.shape[2:], border_mode, stride, dil).out, dtype)
        for xs, ws in group_slices(x.shape[1], w.shape[0], groups):
            out[:, ws] = conv2d_forward(x[:, xs], w[ws], border_mode, stride, dil, flip,
                                        dtype, 1, budget)
        return out
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d: input has shape {x.shape}, filters {w.shape}: channels "
                         f"differ or not 4-D")
    geo = _Geometry(x.shape[2:], w.shape[2:], border_mode, stride, dil)
    _check_out(geo, "conv2d")
    if _direct().use_direct(w.shape, groups):   # few filter taps: no columns, no GEMM
        if epilogue is None:
            return _direct().direct_conv2d(x, w, None, geo, flip, dtype)[0]
        out, epilogue.s = _direct().direct_conv2d(x, w, epilogue.b, geo, flip, dtype,
                                                  epilogue.code, epilogue.keep)
        return out
    b, c = x.shape[:2]
    k, npos = w.shape[0], geo.out[0] * geo.out[1]
    wf = _flat_filters(w, flip, dtype)
    out = np.empty((b, k) + geo.out, dtype)
    per_image = npos >= PER_IMAGE_POSITIONS
    nt, n, tcols = _split(geo, b, c, dtype, budget, per_image)
    if nt:
        return _threads().forward(x, wf, out, tcols, n, _loop_args(geo), epilogue, per_image)
    for b0, m, cols in _chunks(geo, b, c, dtype, budget, per_image):
        _fill(x[b0:b0 + m].astype(dtype, copy=False), cols, geo)
        if per_image:
            # (K, CKK) @ (m, CKK, npos) -> (m, K, npos): straight into the output
            np.matmul(wf, cols, out=out[b0:b0 + m].reshape(m, k, npos))
            if epilogue is not None:
                epilogue(out, None, b0, m)
        else:
            res = np.dot(wf, cols)                              # (K, m*Ho*Wo): one GEMM
            if epilogue is not None:
                epilogue(out, res, b0, m)
            else:
                out[b0:b0 + m] = res.reshape((k, m) + geo.out).transpose(1, 0, 2, 3)
    return out


def conv2d_grad_weights(x, gz, shape, border_mode, stride, dil, flip, dtype, groups=1,
                        budget=None):
    """``Conv2dGradWeights``: the filters' gradient, of ``shape``."""
    if groups > 1:
        gw = np.empty(tuple(int(s) for s in shape), dtype)
        for xs, ws in group_slices(x.shape[1], gz.shape[1], groups):
            gw[ws] = conv2d_grad_weights(x[:, xs], gz[:, ws], shape, border_mode, stride,
                                         dil, flip, dtype, 1, budget)
        return gw
    kh, kw = int(shape[2]), int(shape[3])
    geo = _Geometry(x.shape[2:], (kh, kw), border_mode, stride, dil)
    b, c = x.shape[:2]
    k = gz.shape[1]
    if gz.shape[0] != b or tuple(gz.shape[2:]) != geo.out:
        raise ValueError(f"conv2d gradient: output gradient of shape {gz.shape} does not "
                         f"match input {x.shape} and filters {tuple(shape)}")
    if _direct().use_direct((k, c, kh, kw), groups):                 # few filter taps
        return _direct().direct_grad_weights(x, gz, (k, c, kh, kw), geo, flip, dtype)[0]
    npos = geo.out[0] * geo.out[1]
    per_image = npos >= PER_IMAGE_POSITIONS
    ckk = c * kh * kw
    acc = np.zeros((k, ckk) if per_image else (ckk, k), dtype)
    gz3 = np.ascontiguousarray(gz, dtype=dtype).reshape(b, k, npos)
    nt, n, tcols = _split(geo, b, c, dtype, budget, per_image)
    if nt:
        acc = _threads().grad_weights(x, gz3, tcols, n, _loop_args(geo), per_image)
    # (none left when the threads filled ``acc``)
    for b0, m, cols in () if nt else _chunks(geo, b, c, dtype, budget, per_image):
        _fill(x[b0:b0 + m].astype(dtype, copy=False), cols, geo)
        if per_image:
            if k <= npos:
                # (m, K, npos) @ (m, npos, CKK): the per-image GEMMs in one
                # call (no Python loop; W4/W7's first layer 15-20% faster),
                # their (m, K, CKK) products no larger than the columns
                acc += np.matmul(gz3[b0:b0 + m], cols.transpose(0, 2, 1)).sum(axis=0)
            else:
                for i in range(m):         # (K, npos) @ (npos, CKK): inner npos
                    acc += np.dot(gz3[b0 + i], cols[i].T)
        else:
            # one GEMM, as cols @ gz.T: OpenBLAS is many times slower on the
            # transposed product gz @ cols.T (a long inner dimension)
            acc += np.dot(cols, _by_image(gz3[b0:b0 + m], m, k, npos, dtype).T)
    gw = (acc if per_image else acc.T).reshape(k, c, kh, kw)
    if flip:
        gw = gw[:, :, ::-1, ::-1]
    return np.ascontiguousarray(gw)


def conv2d_grad_inputs(w, gz, shape, border_mode, stride, dil, flip, dtype, groups=1,
                       budget=None):
    """``Conv2dGradInputs``: the input's gradient (transposed convolution),
    of ``shape``."""
    if groups > 1:
        b, c, h, wd = (int(s) for s in shape)
        out = np.empty((b, c, h, wd), dtype)
        for xs, ws in group_slices(c, w.shape[0], groups):
            out[:, xs] = conv2d_grad_inputs(w[ws], gz[:, ws], (b, c // groups, h, wd),
                                            border_mode, stride, dil, flip, dtype, 1, budget)
        return out
    b, c, h, wd = (int(s) for s in shape)
    geo = _Geometry((h, wd), w.shape[2:], border_mode, stride, dil)
    k = w.shape[0]
    if gz.shape[0] != b or gz.shape[1] != k or w.shape[1] != c:
        raise ValueError(f"conv2d input gradient: output gradient of shape {gz.shape} and "
                         f"filters {w.shape} do not give an input of shape {(b, c, h, wd)}")
    if tuple(gz.shape[2:]) != geo.out:
        return _resized_grad_inputs(w, gz, (b, c, h, wd), geo, border_mode, stride, dil,
                                    flip, dtype, budget)
    wt = _flat_filters(w, flip, dtype).T                        # (C*kh*kw, K)
    npos = geo.out[0] * geo.out[1]
    out = np.empty((b, c, h, wd), dtype)
    per_image = npos >= PER_IMAGE_POSITIONS
    gz = np.ascontiguousarray(gz, dtype=dtype)
    # (no threaded per-image form: a first layer, W4/W7's, needs no input gradient)
    nt, n, tcols = _split(geo, b, c, dtype, budget, per_image) if not per_image \
        else (0, 0, None)
    if nt:
        return _threads().grad_inputs(np.ascontiguousarray(wt.T), gz.reshape(b, k, npos),
                                      out, tcols, n, _loop_args(geo))
    for b0, m, cols in _chunks(geo, b, c, dtype, budget, per_image):
        if per_image:
            # (CKK, K) @ (m, K, npos) -> (m, CKK, npos): one GEMM per image
            np.matmul(wt, gz[b0:b0 + m].reshape(m, k, npos), out=cols)
        else:
            np.dot(wt, _by_image(gz[b0:b0 + m], m, k, npos, dtype), out=cols)  # one GEMM
        _add_back(cols, out[b0:b0 + m], geo)
    return out


def _resized_grad_inputs(w, gz, shape, geo, border_mode, stride, dil, flip, dtype, budget):
    """A transposed convolution asked for an output size its ``gz`` does not
    give exactly (Lasagne's ``TransposedConv2DLayer(output_size=...)``, as
    Theano allows): computed for the nearest size ``gz`` does give, then
    cropped or zero-padded to ``shape``, as the op's ``perform`` does."""
    b, c, h, wd = shape
    sizes = []
    for n, o, k, p, s, d in zip((h, wd), gz.shape[2:], geo.k, geo.pad, stride, dil):
        low = (int(o) - 1) * s - 2 * p + d * (k - 1) + 1     # the smallest such size
        sizes.append(min(max(n, low), low + s - 1))
    if min(sizes) < 1:
        raise ValueError(f"conv2d input gradient: output gradient of shape {gz.shape} "
                         f"does not fit an input of shape {shape}")
    full = conv2d_grad_inputs(w, gz, (b, c, *sizes), border_mode, stride, dil, flip, dtype,
                              1, budget)
    out = np.zeros((b, c, h, wd), dtype)
    hh, ww = min(h, sizes[0]), min(wd, sizes[1])
    out[:, :, :hh, :ww] = full[:, :, :hh, :ww]
    return out


def _driver(fn):
    """A driver template: one line calling ``fn`` of this module with the
    node's inputs and the op's parameters."""
    def template(node, ins, outs):
        op, dtype = node.op, node.outputs[0].type.dtype
        params = (f"{op.border_mode!r}, {op.subsample!r}, {op.filter_dilation!r}, "
                  f"{op.filter_flip!r}, {dtype!r}, {op.num_groups!r}")
        return [f"from symnet.backend.numba_cpu.conv import {fn} as _{fn}",
                f"{outs[0]} = _{fn}({', '.join(ins)}, {params})"], True
    return template


for _op, _fn in ((Conv2d, "conv2d_forward"), (Conv2dGradWeights, "conv2d_grad_weights"),
                 (Conv2dGradInputs, "conv2d_grad_inputs")):
    driver_op(_op)(_driver(_fn)).uses_pool = True     # its step holds BLAS (step_pool.py)
