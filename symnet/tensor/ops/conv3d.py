"""3-D convolution (Theano's ``T.nnet.conv3d``) and its two gradients.

Layouts: input ``(batch, channels, depth, rows, cols)``, filters
``(num_filters, channels, kd, kr, kc)``. ``border_mode`` is 'valid', 'full',
'half' or explicit padding (an int or a triple); ``subsample`` is the
stride, ``filter_dilation`` the spacing of filter taps; ``filter_flip``
flips the filters (a true convolution, Theano's default).  With
``num_groups=g`` the input channels and the filters split into g groups
(filters of shape ``(num_filters, channels / g, kd, kr, kc)``): output
group k convolves input group k only, as in ``conv.py``.

The numpy reference is written for any number of spatial axes (im2col
through ``sliding_window_view`` and one ``tensordot``); the ops fix it at
three. As for 2-D, each gradient is a graph of the other two ops, so
second derivatives work.
"""
import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import _as_shape_var, as_tensor_variable
from ..type import TensorType, upcast
from .conv import _padding, conv_output_length, group_slices
from .shape import static_values

__all__ = ["Conv3d", "Conv3dGradInputs", "Conv3dGradWeights", "conv3d", "split_groups"]

ND = 3


def _triple(v, name):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * ND
    v = tuple(int(a) for a in v)
    if len(v) != ND:
        raise ValueError(f"conv3d: {name} must be an int or {ND} ints, got {v}")
    return v


def _pads(border_mode, ksizes, dilation):
    """Padding per spatial axis (symbolic when the kernel sizes are)."""
    if border_mode == "valid":
        return (0,) * ND
    if border_mode == "full":
        return tuple(d * (k - 1) for k, d in zip(ksizes, dilation))
    if border_mode in ("half", "same"):
        # half the dilated kernel, as in conv.py's _padding
        return tuple(((k - 1) * d + 1) // 2 for k, d in zip(ksizes, dilation))
    return border_mode  # a validated triple


def _windows(xp, ksizes, stride, dil, out_sizes):
    """im2col view (B, C, *out, *k) of the padded input ``xp``."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(ksizes, dil))
    win = sliding_window_view(xp, span, axis=tuple(range(2, 2 + ND)))
    pick = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + \
        tuple(slice(None, None, d) for d in dil)
    win = win[pick]
    return win[(slice(None), slice(None)) + tuple(slice(0, o) for o in out_sizes)]


def split_groups(what, n_in, n_out, groups, shapes):
    """``group_slices`` of ``n_in`` input channels and ``n_out`` filters, or
    a ValueError naming ``what`` and the arrays' ``shapes`` when the counts
    do not split into ``groups`` groups."""
    if n_in % groups or n_out % groups:
        raise ValueError(f"{what}: {n_in} input channels and {n_out} filters (shapes "
                         f"{' and '.join(map(str, shapes))}) do not split into "
                         f"num_groups={groups} groups")
    return group_slices(n_in, n_out, groups)


class _Conv3dBase(Op):
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation", "num_groups")

    def __init__(self, border_mode="valid", subsample=(1,) * ND, filter_flip=True,
                 filter_dilation=(1,) * ND, num_groups=1):
        if isinstance(border_mode, str):
            if border_mode not in ("valid", "full", "half", "same"):
                raise ValueError(f"conv3d: border_mode must be 'valid', 'full', 'half', an "
                                 f"int or {ND} ints, got {border_mode!r}")
        else:
            border_mode = _triple(border_mode, "border_mode")
        self.border_mode = border_mode
        self.subsample = _triple(subsample, "subsample")
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _triple(filter_dilation, "filter_dilation")
        if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) \
                or num_groups < 1:
            raise ValueError(f"conv3d: num_groups must be a positive integer, got "
                             f"{num_groups!r}")
        self.num_groups = int(num_groups)

    @property
    def _args(self):
        return (self.border_mode, self.subsample, self.filter_flip, self.filter_dilation,
                self.num_groups)

    def _groups(self, n_in, n_out, what, shapes):
        return split_groups(what, n_in, n_out, self.num_groups, shapes)

    def _flip(self, w):
        return w[(slice(None), slice(None)) + (slice(None, None, -1),) * ND] \
            if self.filter_flip else w

    def _pad_input(self, x, pads):
        if not any(pads):
            return x
        return np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pads))

    def _out_sizes(self, in_sizes, ksizes):
        pads = _pads(self.border_mode, ksizes, self.filter_dilation)
        return tuple(conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                     zip(in_sizes, ksizes, pads, self.subsample, self.filter_dilation))

    def _grad_node(self, a, gz, shape, lead):
        """The node of a gradient op: its result has the given full shape
        (static where ``shape`` is constant); ``lead`` gives the static
        sizes of the first two axes from the two tensors."""
        a, gz = as_tensor_variable(a), as_tensor_variable(gz)
        shape = _as_shape_var(shape)
        vals = (static_values(shape) + [None] * (2 + ND))[:2 + ND]
        out = TensorType(upcast(a.dtype, gz.dtype), shape=lead(a, gz) + tuple(vals[2:]))()
        return Apply(self, [a, gz, shape], [out])

    def _sym_out_sizes(self, in_sizes, ksizes):
        # conv_output_length written with graph arithmetic (// is int_div)
        pads = _pads(self.border_mode, ksizes, self.filter_dilation)
        return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, p, s, d in
                     zip(in_sizes, ksizes, pads, self.subsample, self.filter_dilation))


def _join(parts, axis):
    """The groups' results side by side (one group: its result, not a copy)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def _static(sizes):
    return tuple(None if s is None else int(s) for s in sizes)


class Conv3d(_Conv3dBase):
    """``conv3d(input, filters)``."""

    def make_node(self, x, w):
        x, w = as_tensor_variable(x), as_tensor_variable(w)
        if x.ndim != 2 + ND or w.ndim != 2 + ND:
            raise TypeError(f"conv3d needs 5-D input and filters, got {x.ndim}-D {x} and "
                            f"{w.ndim}-D {w}")
        ci, cw, g = x.type.shape[1], w.type.shape[1], self.num_groups
        if ci is not None and cw is not None and ci != cw * g:
            raise ValueError(f"conv3d: input {x} has {ci} channels (shape {x.type.shape}) "
                             f"but filters {w} expect {cw} (shape {w.type.shape})"
                             + (f" per group, {cw * g} in all" if g > 1 else ""))
        if w.type.shape[0] is not None and w.type.shape[0] % g:
            raise ValueError(f"conv3d: {w.type.shape[0]} filters {w} (shape {w.type.shape}) "
                             f"do not split into num_groups={g} groups")
        ks = w.type.shape[2:]
        outs = self._out_sizes(x.type.shape[2:], ks) if None not in ks else (None,) * ND
        if any(o is not None and o <= 0 for o in outs):
            raise ValueError(f"conv3d: filters {w.type.shape} do not fit input "
                             f"{x.type.shape}")
        out = TensorType(upcast(x.dtype, w.dtype),
                         shape=(x.type.shape[0], w.type.shape[0]) + _static(outs))()
        return Apply(self, [x, w], [out])

    def perform(self, node, inputs, output_storage):
        x, w = inputs
        g = self.num_groups
        if x.shape[1] != w.shape[1] * g:
            raise ValueError(f"conv3d: input has {x.shape[1]} channels, filters expect "
                             f"{w.shape[1]} (shapes {x.shape} and {w.shape})"
                             + (f" per group of num_groups={g}" if g > 1 else ""))
        res = _join([self._forward1(x[:, xs], w[ws]) for xs, ws in self._groups(
            x.shape[1], w.shape[0], "conv3d", (x.shape, w.shape))], axis=1)
        output_storage[0][0] = np.ascontiguousarray(res).astype(node.outputs[0].dtype,
                                                                copy=False)

    def _forward1(self, x, w):
        """One group's convolution."""
        ks = w.shape[2:]
        pads = _pads(self.border_mode, ks, self.filter_dilation)
        outs = self._out_sizes(x.shape[2:], ks)
        win = _windows(self._pad_input(x, pads), ks, self.subsample, self.filter_dilation,
                       outs)
        axes_w = [1] + list(range(2 + ND, 2 + 2 * ND))
        res = np.tensordot(win, self._flip(w), axes=(axes_w, [1] + list(range(2, 2 + ND))))
        return np.moveaxis(res, -1, 1)  # (B, *out, K) -> (B, K, *out)

    def infer_shape(self, node, input_shapes):
        xs, ws = input_shapes
        return [(xs[0], ws[0]) + self._sym_out_sizes(xs[2:], ws[2:])]

    def L_op(self, inputs, outputs, output_grads):
        x, w = inputs
        (gz,) = output_grads
        return [Conv3dGradInputs(*self._args)(w, gz, x.shape),
                Conv3dGradWeights(*self._args)(x, gz, w.shape)]


class Conv3dGradInputs(_Conv3dBase):
    """Gradient of conv3d with respect to its input (the transposed
    convolution of ``topgrad`` with ``filters``); ``shape`` is the input's
    full 5-D shape."""

    def make_node(self, w, gz, shape):
        g = self.num_groups
        return self._grad_node(w, gz, shape, lambda w, gz: (
            gz.type.shape[0], None if w.type.shape[1] is None else w.type.shape[1] * g))

    def perform(self, node, inputs, output_storage):
        w, gz, shape = inputs
        in_shape = tuple(int(s) for s in shape)
        g = self.num_groups
        if in_shape[1] != w.shape[1] * g or gz.shape[1] != w.shape[0]:
            raise ValueError(f"conv3d input gradient: filters of shape {w.shape} and an "
                             f"output gradient of shape {gz.shape} do not give an input of "
                             f"shape {in_shape}"
                             + (f" (num_groups={g})" if g > 1 else ""))
        part = (in_shape[0], in_shape[1] // g) + in_shape[2:]
        gx = _join([self._backward1(w[ws], gz[:, ws], part) for _, ws in self._groups(
            in_shape[1], w.shape[0], "conv3d input gradient", (w.shape, gz.shape))], axis=1)
        output_storage[0][0] = np.ascontiguousarray(gx).astype(node.outputs[0].dtype,
                                                               copy=False)

    def _backward1(self, w, gz, in_shape):
        """One group's transposed convolution, of ``in_shape``."""
        ks = w.shape[2:]
        pads = _pads(self.border_mode, ks, self.filter_dilation)
        outs = gz.shape[2:]
        canvas = tuple(n + 2 * p + s + d * k for n, p, s, d, k in
                       zip(in_shape[2:], pads, self.subsample, self.filter_dilation, ks))
        gp = np.zeros(in_shape[:2] + canvas, dtype=np.result_type(w, gz))
        cols = np.tensordot(gz, self._flip(w), axes=([1], [0]))  # B, *out, C, *k
        cols = np.moveaxis(cols, 1 + ND, 1)                      # B, C, *out, *k
        # each filter tap adds its products into a strided block of the input
        for tap in itertools.product(*(range(k) for k in ks)):
            block = tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in
                          zip(tap, self.filter_dilation, self.subsample, outs))
            gp[(slice(None), slice(None)) + block] += cols[(Ellipsis,) + tap]
        crop = tuple(slice(p, p + n) for p, n in zip(pads, in_shape[2:]))
        return gp[(slice(None), slice(None)) + crop]

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[2]
        return [tuple(shape[i] for i in range(2 + ND))]

    def L_op(self, inputs, outputs, output_grads):
        w, gz, shape = inputs
        (g,) = output_grads
        return [Conv3dGradWeights(*self._args)(g, gz, w.shape), Conv3d(*self._args)(g, w),
                None]


class Conv3dGradWeights(_Conv3dBase):
    """Gradient of conv3d with respect to its filters; ``shape`` is theirs."""

    def make_node(self, x, gz, shape):
        g = self.num_groups
        return self._grad_node(x, gz, shape, lambda x, gz: (
            gz.type.shape[1], None if x.type.shape[1] is None else x.type.shape[1] // g))

    def perform(self, node, inputs, output_storage):
        x, gz, shape = inputs
        ks = tuple(int(s) for s in shape[2:])
        gw = _join([self._weights1(x[:, xs], gz[:, ws], ks) for xs, ws in self._groups(
            x.shape[1], gz.shape[1], "conv3d filter gradient", (x.shape, gz.shape))], axis=0)
        output_storage[0][0] = np.ascontiguousarray(gw).astype(node.outputs[0].dtype,
                                                               copy=False)

    def _weights1(self, x, gz, ks):
        """One group's filter gradient."""
        pads = _pads(self.border_mode, ks, self.filter_dilation)
        win = _windows(self._pad_input(x, pads), ks, self.subsample, self.filter_dilation,
                       gz.shape[2:])
        lead = [0] + list(range(2, 2 + ND))
        return self._flip(np.tensordot(gz, win, axes=(lead, lead)))  # K, C, *k

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[2]
        return [tuple(shape[i] for i in range(2 + ND))]

    def L_op(self, inputs, outputs, output_grads):
        x, gz, shape = inputs
        (g,) = output_grads
        return [Conv3dGradInputs(*self._args)(g, gz, x.shape), Conv3d(*self._args)(x, g),
                None]


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1,
           **kwargs):
    """Theano's ``T.nnet.conv3d`` (``input_shape``/``filter_shape`` are hints;
    ``num_groups`` splits channels and filters into groups, see the module
    docstring).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x, w = T.tensor5('x'), T.tensor5('w')
    >>> y = conv3d(x, w, border_mode='half')
    >>> y.eval({x: np.ones((1, 1, 3, 3, 3), 'float32'),
    ...         w: np.ones((1, 1, 3, 3, 3), 'float32')})[0, 0, 1, 1]
    array([18., 27., 18.], dtype=float32)
    """
    return Conv3d(border_mode, subsample, filter_flip, filter_dilation, num_groups)(
        input, filters)


def conv3d2d(signals, filters, signals_shape=None, filters_shape=None, border_mode="valid"):
    """Theano's ``theano.tensor.nnet.conv3d2d.conv3d``: the same 3-d
    convolution (filters flipped on all three axes) in its other layout,
    signals ``(batch, time, channels, rows, cols)`` and filters ``(out
    channels, time, in channels, rows, cols)``; the output is ``(batch,
    time, out channels, rows, cols)``.  ``border_mode`` is 'valid', 'full',
    'half' or a triple of them (time, rows, cols; rows and cols alike, as
    Theano requires)."""
    signals, filters = as_tensor_variable(signals), as_tensor_variable(filters)
    for who, var in (("signals", signals), ("filters", filters)):
        if var.ndim != 5:
            raise TypeError(f"conv3d2d: {who} must have 5 dims, got {var} with {var.ndim}")
    modes = (border_mode,) * 3 if isinstance(border_mode, str) else tuple(border_mode)
    if len(modes) != 3 or modes[1] != modes[2] or \
            any(m not in ("valid", "full", "half") for m in modes):
        raise ValueError(f"conv3d2d: border_mode must be 'valid', 'full', 'half' or three of "
                         f"them with rows and cols alike, got {border_mode!r}")
    mode = modes[0]
    if modes[0] != modes[1]:
        # per-axis modes: zero-pad the signals (symbolic sizes work), then 'valid'
        from .indexing import set_subtensor
        from .shape import zeros
        pads = [_padding(m, (filters.shape[ax],) * 2, (1, 1))[0]
                for m, ax in zip(modes, (1, 3, 4))]
        shape = [signals.shape[i] for i in range(5)]
        region = [slice(None)] * 5
        for p, ax in zip(pads, (1, 3, 4)):
            shape[ax] = shape[ax] + 2 * p
            region[ax] = slice(p, p + signals.shape[ax])
        signals = set_subtensor(zeros(shape, dtype=signals.dtype)[tuple(region)], signals)
        mode = "valid"
    out = conv3d(signals.dimshuffle(0, 2, 1, 3, 4), filters.dimshuffle(0, 2, 1, 3, 4),
                 border_mode=mode, filter_flip=True)
    return out.dimshuffle(0, 2, 1, 3, 4)
