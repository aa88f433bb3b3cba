"""Spatial transformer layers: resample an image on a grid that a
localization network moves.

:class:`TransformerLayer` moves the grid with an affine map,
:class:`TPSTransformerLayer` with a thin-plate spline through control
points. Both sample the input bilinearly at the moved points (Jaderberg et
al. 2015, "Spatial Transformer Networks"); coordinates are normalised to
``[-1, 1]`` on both axes, and input sizes may be known only at run time.
"""
import math

import numpy as np

from .. import tensor as T
from ..utils import as_tuple
from .base import MergeLayer, NdimError, _layer_label

__all__ = ["TransformerLayer", "TPSTransformerLayer"]

_BORDER_MODES = ("nearest", "mirror", "wrap")


def _output_shape(shape, downsample_factor):
    return tuple(shape[:2]) + tuple(None if s is None else int(s / f)
                                    for s, f in zip(shape[2:], downsample_factor))


def _output_sizes(layer, input):
    """Output rows and cols: ints when known, else computed from ``input``."""
    sizes = list(layer.output_shape[2:])
    for k in range(2):
        if sizes[k] is None:
            sizes[k] = T.cast(T.floor(input.shape[2 + k] / layer.downsample_factor[k]),
                              "int64")
    return sizes


def _grid(out_h, out_w, dtype):
    """x and y of the output pixels, row by row, each a vector of out_h * out_w.

    Both span [-1, 1] (a single row or column sits at -1, as linspace).
    Built from outer products, so the sizes may be symbolic.
    """
    xs = T.cast(T.arange(out_w), dtype) * (2.0 / T.maximum(out_w - 1, 1)) - 1
    ys = T.cast(T.arange(out_h), dtype) * (2.0 / T.maximum(out_h - 1, 1)) - 1
    gx = (T.ones((out_h,), dtype=dtype).dimshuffle(0, "x") * xs.dimshuffle("x", 0)).flatten()
    gy = (ys.dimshuffle(0, "x") * T.ones((out_w,), dtype=dtype).dimshuffle("x", 0)).flatten()
    return gx, gy


def _border(coord, size, border_mode):
    """Integer pixel index for float coordinate ``coord`` per border_mode."""
    size_f = T.cast(size, coord.dtype)
    if border_mode == "nearest":
        coord = T.clip(coord, 0, size_f - 1)
    elif border_mode == "wrap":
        coord = coord % size_f
    else:  # mirror: period 2 * (size - 1), folded back onto [0, size - 1]
        period = T.maximum(2 * (size_f - 1), 1)
        coord = coord % period
        coord = T.switch(coord > size_f - 1, period - coord, coord)
        coord = T.clip(coord, 0, size_f - 1)
    return T.cast(coord, "int64")


def _sample(input, src, out_h, out_w, border_mode):
    """Bilinear samples of ``input`` at normalised points ``src`` (batch, 2, n)."""
    b, c, h, w = (input.shape[k] for k in range(4))
    dtype = src.dtype
    x = (src[:, 0].flatten() + 1) / 2 * T.cast(w - 1, dtype)
    y = (src[:, 1].flatten() + 1) / 2 * T.cast(h - 1, dtype)
    x0f, y0f = T.floor(x), T.floor(y)
    x1f, y1f = x0f + 1, y0f + 1
    x0, x1 = _border(x0f, w, border_mode), _border(x1f, w, border_mode)
    y0, y1 = _border(y0f, h, border_mode), _border(y1f, h, border_mode)
    # rows of the (batch * rows * cols, channels) image table
    flat = input.dimshuffle(0, 2, 3, 1).reshape((-1, c))
    # first row of each example's image; added per example, so that the
    # number of points per example may be symbolic
    base = (T.arange(b) * (h * w)).dimshuffle(0, "x")
    out = 0
    for yi, xi, wgt in ((y0, x0, (x1f - x) * (y1f - y)), (y1, x0, (x1f - x) * (y - y0f)),
                        (y0, x1, (x - x0f) * (y1f - y)), (y1, x1, (x - x0f) * (y - y0f))):
        rows = (base + T.reshape(yi * w + xi, (b, -1))).flatten()
        out = out + wgt.dimshuffle(0, "x") * flat[rows]
    out = T.reshape(out, (b, out_h, out_w, c))
    return out.dimshuffle(0, 3, 1, 2).astype(input.dtype)


def _check_common(layer, border_mode, loc_units):
    if border_mode not in _BORDER_MODES:
        raise ValueError(f"{_layer_label(layer)}: border_mode must be 'nearest', 'mirror' "
                         f"or 'wrap', got {border_mode!r}")
    shape, loc = layer.input_shapes
    if len(shape) != 4:
        raise NdimError(f"{_layer_label(layer)}: the input must have 4 dimensions "
                        f"(batch, channels, rows, cols), got shape {shape}")
    if len(loc) != 2 or loc[1] != loc_units:
        raise ValueError(f"{_layer_label(layer)}: the localization network must give "
                         f"shape (batch, {loc_units}), got {loc}")


class TransformerLayer(MergeLayer):
    """Spatial transformer: resample the input on an affinely moved grid.

    A localization network predicts, per example, six numbers: the affine
    map ``theta`` (2x3) from output to input coordinates, both in ``[-1,
    1]``. The output is the input sampled there with bilinear interpolation.

    Parameters
    ----------
    incoming : Layer or shape tuple
        The input, ``(batch, channels, rows, cols)``.
    localization_network : Layer
        Gives ``(batch, 6)``: ``theta`` in row-major order.
    downsample_factor : float or pair of float
        Output rows/cols are the input's divided by this.
    border_mode : 'nearest', 'mirror' or 'wrap'
        How points outside the input are read: the nearest border pixel, the
        input mirrored at its borders, or the input repeated periodically.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import InputLayer, DenseLayer, TransformerLayer, get_output
    >>> l_in = InputLayer((None, 1, 3, 4))
    >>> identity = np.array([1, 0, 0, 0, 1, 0], 'float32')
    >>> l_loc = DenseLayer(l_in, 6, W=np.zeros((12, 6), 'float32'), b=identity,
    ...                    nonlinearity=None)
    >>> l_t = TransformerLayer(l_in, l_loc)
    >>> img = np.arange(12, dtype='float32').reshape(1, 1, 3, 4)
    >>> bool(np.allclose(get_output(l_t, img).eval(), img))
    True
    """

    def __init__(self, incoming, localization_network, downsample_factor=1,
                 border_mode="nearest", **kwargs):
        super().__init__([incoming, localization_network], **kwargs)
        self.downsample_factor = as_tuple(downsample_factor, 2)
        _check_common(self, border_mode, 6)
        self.border_mode = border_mode

    def get_output_shape_for(self, input_shapes):
        return _output_shape(input_shapes[0], self.downsample_factor)

    def get_output_for(self, inputs, **kwargs):
        input, theta = inputs
        out_h, out_w = _output_sizes(self, input)
        gx, gy = _grid(out_h, out_w, theta.dtype)
        grid = T.stack([gx, gy, T.ones_like(gx)])             # (3, n)
        src = T.dot(T.reshape(theta, (-1, 2, 3)), grid)      # (batch, 2, n)
        return _sample(input, src, out_h, out_w, self.border_mode)


def _tps_kernel(d2):
    """The thin-plate kernel U as a function of squared distance: r^2 log r^2 (0 at 0)."""
    safe = np.where(d2 > 0, d2, 1.0)
    return np.where(d2 > 0, d2 * np.log(safe), 0.0)


def _tps_basis(gx, gy, points):
    """Rows U(|g - p_i|) for each control point, then 1, x, y: (n + 3, len(g)).

    Works on numpy arrays and on symbolic vectors alike.
    """
    px, py = points[:, 0][:, None], points[:, 1][:, None]
    if isinstance(gx, np.ndarray):
        d2 = (gx[None, :] - px) ** 2 + (gy[None, :] - py) ** 2
        return np.concatenate([_tps_kernel(d2), np.ones((1, gx.size)), gx[None], gy[None]])
    d2 = (gx.dimshuffle("x", 0) - px) ** 2 + (gy.dimshuffle("x", 0) - py) ** 2
    safe = T.switch(T.gt(d2, 0), d2, 1.0)
    u = T.switch(T.gt(d2, 0), d2 * T.log(safe), 0.0)
    return T.concatenate([u, T.ones_like(gx).dimshuffle("x", 0), gx.dimshuffle("x", 0),
                          gy.dimshuffle("x", 0)], axis=0)


class TPSTransformerLayer(MergeLayer):
    """Spatial transformer with a thin-plate spline through control points.

    The source control points are a ``k x k`` grid over ``[-1, 1]^2``
    (``k ** 2 == control_points``, x varying fastest). The localization
    network gives, per example, offsets moving them: ``2 * control_points``
    numbers, all x offsets then all y offsets. The thin-plate spline that
    maps each source point to its moved point (exactly, with the least
    bending) maps every output pixel to the input point it samples
    bilinearly. Zero offsets give the identity; equal offsets a shift.

    The spline is fitted in float64 when the layer is built (a constant
    ``(n + 3, n + 3)`` matrix, ``L_inv``); the per-example coefficients are
    its product with the offsets, so no matrix is inverted in the graph.

    Parameters
    ----------
    incoming : Layer or shape tuple
        The input, ``(batch, channels, rows, cols)``.
    localization_network : Layer
        Gives ``(batch, 2 * control_points)``.
    downsample_factor : float or pair of float
        Output rows/cols are the input's divided by this.
    control_points : int
        A perfect square.
    precompute_grid : 'auto' or bool
        Evaluate the spline's basis on the output grid once, when the layer
        is built ('auto': when the input's rows and cols are known; True
        with unknown sizes is a ValueError).
    border_mode : 'nearest', 'mirror' or 'wrap'
        As for :class:`TransformerLayer`.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import InputLayer, TPSTransformerLayer, get_output
    >>> l_in, l_loc = InputLayer((None, 1, 4, 5)), InputLayer((None, 8))
    >>> l_t = TPSTransformerLayer(l_in, l_loc, control_points=4)
    >>> img = np.arange(20, dtype='float32').reshape(1, 1, 4, 5)
    >>> out = get_output(l_t, {l_in: img, l_loc: np.zeros((1, 8))}).eval()
    >>> bool(np.allclose(out, img, atol=1e-4))
    True
    """

    def __init__(self, incoming, localization_network, downsample_factor=1,
                 control_points=16, precompute_grid="auto", border_mode="nearest", **kwargs):
        super().__init__([incoming, localization_network], **kwargs)
        self.downsample_factor = as_tuple(downsample_factor, 2)
        k = math.isqrt(control_points) if control_points > 0 else 0
        if k * k != control_points:
            raise ValueError(f"{_layer_label(self)}: control_points must be a perfect square "
                             f"(the source points form a square grid), got {control_points}")
        self.control_points = control_points
        _check_common(self, border_mode, 2 * control_points)
        self.border_mode = border_mode
        known = all(s is not None for s in self.input_shapes[0][2:])
        if precompute_grid == "auto":
            precompute_grid = known
        elif precompute_grid and not known:
            raise ValueError(f"{_layer_label(self)}: the grid can only be precomputed when "
                             f"the input's rows and cols are known, got input shape "
                             f"{self.input_shapes[0]}; pass precompute_grid='auto' or False")
        self.precompute_grid = bool(precompute_grid)
        axis = np.linspace(-1, 1, k)
        gx, gy = np.meshgrid(axis, axis)
        self.source_points = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (n, 2)
        basis = _tps_basis(self.source_points[:, 0], self.source_points[:, 1],
                           self.source_points)                           # (n + 3, n)
        system = np.zeros((control_points + 3, control_points + 3))
        system[:control_points] = basis.T
        system[control_points:, :control_points] = basis[control_points:]
        self.L_inv = np.linalg.inv(system)
        self.right_mat = None
        if self.precompute_grid:
            out_h, out_w = self.output_shape[2:]
            ys, xs = np.meshgrid(np.linspace(-1, 1, out_h), np.linspace(-1, 1, out_w),
                                 indexing="ij")
            self.right_mat = _tps_basis(xs.ravel(), ys.ravel(), self.source_points)

    def get_output_shape_for(self, input_shapes):
        return _output_shape(input_shapes[0], self.downsample_factor)

    def get_output_for(self, inputs, **kwargs):
        input, offsets = inputs
        n = self.control_points
        dest = T.reshape(offsets, (-1, 2, n)) + self.source_points.T.astype("float64")
        # [w; a] = L_inv @ [dest; 0]: only the first n columns of L_inv matter
        coefficients = T.dot(dest, self.L_inv[:, :n].T)                  # (batch, 2, n + 3)
        out_h, out_w = _output_sizes(self, input)
        if self.right_mat is not None:
            right_mat = self.right_mat
        else:
            gx, gy = _grid(out_h, out_w, coefficients.dtype)
            right_mat = _tps_basis(gx, gy, self.source_points)
        src = T.dot(coefficients, right_mat)                             # (batch, 2, pixels)
        return _sample(input, src, out_h, out_w, self.border_mode)
