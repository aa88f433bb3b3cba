"""2-D convolution: ``conv2d`` and its two gradients (``conv2d_transpose``
is the gradient with respect to the input).

Layouts follow Theano: input (batch, channels, rows, cols), filters
(out_channels, in_channels, rows, cols).  ``filter_flip=True`` (the default)
is a true convolution; False is cross-correlation.  With ``num_groups=g``
the input channels and the filters split into g groups (filters of shape
(out_channels, in_channels / g, rows, cols)); output group k convolves
input group k only.  The numpy reference
computes through im2col windows (``sliding_window_view``) and one tensordot,
so it is BLAS-bound like the backends' kernels.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import _as_shape_var, as_tensor_variable
from ..type import TensorType, upcast
from .shape import static_values

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d",
           "conv2d_transpose", "conv2d_grad_wrt_inputs", "conv_output_length",
           "group_slices"]


def _pair(v, name):
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair, got {v}")
    return v


def _padding(border_mode, kshape, dilation):
    """(pad_rows, pad_cols) for a border mode and kernel size."""
    if isinstance(border_mode, str):
        if border_mode == "valid":
            return (0, 0)
        if border_mode == "full":
            return tuple(d * (k - 1) for k, d in zip(kshape, dilation))
        if border_mode in ("half", "same"):
            # half the dilated kernel, ((k - 1) * d + 1) // 2, as Theano (d * (k // 2)
            # was one too many for an even kernel with d > 1)
            return tuple(((k - 1) * d + 1) // 2 for k, d in zip(kshape, dilation))
        raise ValueError(f"border_mode must be 'valid', 'full', 'half', an int or a pair, "
                         f"got {border_mode!r}")
    return _pair(border_mode, "border_mode")


def conv_output_length(length, ksize, pad, stride, dilation=1):
    """Size of one convolution output axis (None when ``length`` is None)."""
    if length is None or ksize is None:
        return None
    return (length + 2 * pad - dilation * (ksize - 1) - 1) // stride + 1


def group_slices(n_in, n_out, groups):
    """(input channel slice, filter slice) of each group of a grouped
    convolution with ``n_in`` input channels and ``n_out`` filters."""
    ci, co = n_in // groups, n_out // groups
    return [(slice(k * ci, (k + 1) * ci), slice(k * co, (k + 1) * co)) for k in range(groups)]


def _windows(xp, kh, kw, stride, dil, out_hw):
    """im2col view (B, C, Ho, Wo, kh, kw) of the padded input ``xp``."""
    eh, ew = dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1
    win = sliding_window_view(xp, (eh, ew), axis=(2, 3))
    win = win[:, :, ::stride[0], ::stride[1], ::dil[0], ::dil[1]]
    return win[:, :, :out_hw[0], :out_hw[1]]


class _ConvBase(Op):
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation", "num_groups")

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1):
        if not isinstance(border_mode, str):
            border_mode = _pair(border_mode, "border_mode")
        _padding(border_mode, (1, 1), (1, 1))  # validates
        self.border_mode = border_mode
        self.subsample = _pair(subsample, "subsample")
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(filter_dilation, "filter_dilation")
        if int(num_groups) != num_groups or num_groups < 1:
            raise ValueError(f"num_groups must be a positive integer, got {num_groups!r}")
        # grouped convolution: input channels and filters split into
        # num_groups groups; group g of the output sees only group g of the input
        self.num_groups = int(num_groups)

    def _args(self):
        return (self.border_mode, self.subsample, self.filter_flip, self.filter_dilation,
                self.num_groups)

    def _groups(self, n_in, n_out):
        return group_slices(n_in, n_out, self.num_groups)

    def _flip(self, w):
        return w[:, :, ::-1, ::-1] if self.filter_flip else w

    def _pad(self, kshape):
        return _padding(self.border_mode, kshape, self.filter_dilation)

    def _out_shape(self, in_hw, k_hw):
        ph, pw = self._pad(k_hw) if None not in k_hw else (None, None)
        if ph is None:
            return (None, None)
        return tuple(conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                     zip(in_hw, k_hw, (ph, pw), self.subsample, self.filter_dilation))


class Conv2d(_ConvBase):
    """``conv2d(input, filters)`` (see the module docstring for layouts)."""

    def make_node(self, x, w):
        x, w = as_tensor_variable(x), as_tensor_variable(w)
        if x.ndim != 4 or w.ndim != 4:
            raise TypeError(f"conv2d needs 4-D input and filters, got {x.ndim}-D {x} and "
                            f"{w.ndim}-D {w}")
        ci, cw, g = x.type.shape[1], w.type.shape[1], self.num_groups
        if ci is not None and cw is not None and ci != cw * g:
            raise ValueError(f"conv2d: input {x} has {ci} channels (shape {x.type.shape}) "
                             f"but filters {w} expect {cw} (shape {w.type.shape})"
                             + (f" per group, {cw * g} in all" if g > 1 else ""))
        if w.type.shape[0] is not None and w.type.shape[0] % g:
            raise ValueError(f"conv2d: {w.type.shape[0]} filters (shape {w.type.shape}) do "
                             f"not split into num_groups={g} groups")
        ho, wo = self._out_shape(x.type.shape[2:], w.type.shape[2:])
        for o, n in ((ho, "rows"), (wo, "cols")):
            if o is not None and o <= 0:
                raise ValueError(f"conv2d: filters {w.type.shape} do not fit input "
                                 f"{x.type.shape} ({n})")
        out = TensorType(upcast(x.dtype, w.dtype),
                         shape=(x.type.shape[0], w.type.shape[0], ho, wo))()
        return Apply(self, [x, w], [out])

    def perform(self, node, inputs, output_storage):
        x, w = inputs
        output_storage[0][0] = self.forward(x, w).astype(node.outputs[0].dtype, copy=False)

    def forward(self, x, w):
        g = self.num_groups
        if x.shape[1] != w.shape[1] * g or w.shape[0] % g:
            raise ValueError(f"conv2d: input has {x.shape[1]} channels, filters expect "
                             f"{w.shape[1]} (shapes {x.shape} and {w.shape})"
                             + (f" per group of num_groups={g}" if g > 1 else ""))
        if g > 1:
            return np.concatenate([self._forward1(x[:, xs], w[ws]) for xs, ws in
                                   self._groups(x.shape[1], w.shape[0])], axis=1)
        return self._forward1(x, w)

    def _forward1(self, x, w):
        kh, kw = w.shape[2:]
        ph, pw = self._pad((kh, kw))
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        out_hw = tuple(conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                       zip(x.shape[2:], (kh, kw), (ph, pw), self.subsample,
                           self.filter_dilation))
        win = _windows(xp, kh, kw, self.subsample, self.filter_dilation, out_hw)
        out = np.tensordot(win, self._flip(w), axes=([1, 4, 5], [1, 2, 3]))
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def infer_shape(self, node, input_shapes):
        xs, ws = input_shapes
        # the pads of 'full'/'half' from the kernel's sizes, symbolic ones too
        ph, pw = self._pad(ws[2:])
        st = node.outputs[0].type.shape
        out = [xs[0], ws[0]]
        for i, (n, k, s, d) in enumerate(zip(xs[2:], ws[2:], self.subsample,
                                             self.filter_dilation)):
            if st[2 + i] is not None:
                out.append(st[2 + i])
            else:
                out.append((n + 2 * (ph, pw)[i] - d * (k - 1) - 1) // s + 1)
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x, w = inputs
        (gz,) = output_grads
        args = self._args()
        gx = Conv2dGradInputs(*args)(w, gz, x.shape)
        gw = Conv2dGradWeights(*args)(x, gz, w.shape)
        return [gx, gw]


class Conv2dGradInputs(_ConvBase):
    """Gradient of conv2d with respect to its input: the transposed
    convolution of ``topgrad`` with ``filters``; ``shape`` is the input's."""

    def make_node(self, w, gz, shape):
        w, gz = as_tensor_variable(w), as_tensor_variable(gz)
        shape = _as_shape_var(shape)
        vals = static_values(shape) + [None] * 4
        c = w.type.shape[1] * self.num_groups if w.type.shape[1] is not None else None
        st = (gz.type.shape[0], c, vals[2], vals[3])
        out = TensorType(upcast(w.dtype, gz.dtype), shape=st)()
        return Apply(self, [w, gz, shape], [out])

    def perform(self, node, inputs, output_storage):
        w, gz, shape = inputs
        output_storage[0][0] = self.backward(w, gz, tuple(int(s) for s in shape)).astype(
            node.outputs[0].dtype, copy=False)

    def backward(self, w, gz, in_shape):
        g = self.num_groups
        if g > 1:
            b, c, h, wd = in_shape
            return np.concatenate([self._backward1(w[ws], gz[:, ws], (b, c // g, h, wd))
                                   for _, ws in self._groups(c, w.shape[0])], axis=1)
        return self._backward1(w, gz, in_shape)

    def _backward1(self, w, gz, in_shape):
        kh, kw = w.shape[2:]
        ph, pw = self._pad((kh, kw))
        (sh, sw), (dh, dw) = self.subsample, self.filter_dilation
        b, c, h, wd = in_shape
        ho, wo = gz.shape[2:]
        gp = np.zeros((b, c, h + 2 * ph + sh + dh * kh, wd + 2 * pw + sw + dw * kw),
                      dtype=np.result_type(w, gz))
        cols = np.tensordot(gz, self._flip(w), axes=([1], [0]))  # B,Ho,Wo,C,kh,kw
        cols = cols.transpose(0, 3, 4, 5, 1, 2)                  # B,C,kh,kw,Ho,Wo
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dh, j * dw
                gp[:, :, r0:r0 + sh * (ho - 1) + 1:sh, c0:c0 + sw * (wo - 1) + 1:sw] += \
                    cols[:, :, i, j]
        return np.ascontiguousarray(gp[:, :, ph:ph + h, pw:pw + wd])

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[2]
        return [tuple(shape[i] for i in range(4))]

    def L_op(self, inputs, outputs, output_grads):
        w, gz, shape = inputs
        (g,) = output_grads
        args = self._args()
        return [Conv2dGradWeights(*args)(g, gz, w.shape), Conv2d(*args)(g, w), None]


class Conv2dGradWeights(_ConvBase):
    """Gradient of conv2d with respect to its filters; ``shape`` is theirs."""

    def make_node(self, x, gz, shape):
        x, gz = as_tensor_variable(x), as_tensor_variable(gz)
        shape = _as_shape_var(shape)
        vals = static_values(shape) + [None] * 4
        c = x.type.shape[1] // self.num_groups if x.type.shape[1] is not None else None
        st = (gz.type.shape[1], c, vals[2], vals[3])
        out = TensorType(upcast(x.dtype, gz.dtype), shape=st)()
        return Apply(self, [x, gz, shape], [out])

    def perform(self, node, inputs, output_storage):
        x, gz, shape = inputs
        kh, kw = int(shape[2]), int(shape[3])
        gw = np.concatenate([self._weights1(x[:, xs], gz[:, ws], kh, kw) for xs, ws in
                             self._groups(x.shape[1], gz.shape[1])], axis=0)
        output_storage[0][0] = gw.astype(node.outputs[0].dtype, copy=False)

    def _weights1(self, x, gz, kh, kw):
        ph, pw = self._pad((kh, kw))
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        win = _windows(xp, kh, kw, self.subsample, self.filter_dilation, gz.shape[2:])
        gw = np.tensordot(gz, win, axes=([0, 2, 3], [0, 2, 3]))  # K,C,kh,kw
        return np.ascontiguousarray(self._flip(gw))

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[2]
        return [tuple(shape[i] for i in range(4))]

    def L_op(self, inputs, outputs, output_grads):
        x, gz, shape = inputs
        (g,) = output_grads
        args = self._args()
        return [Conv2dGradInputs(*args)(g, gz, x.shape), Conv2d(*args)(x, g), None]


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, image_shape=None, filter_dilation=(1, 1),
           num_groups=1, unshared=False, **kwargs):
    """Theano's ``T.nnet.conv2d``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.tensor4('x'); w = T.tensor4('w')
    >>> y = conv2d(x, w, border_mode='half')
    >>> y.eval({x: np.ones((1, 1, 4, 4), 'float32'),
    ...         w: np.ones((1, 1, 3, 3), 'float32')})[0, 0, 0]
    array([4., 6., 6., 4.], dtype=float32)
    """
    if unshared:
        raise NotImplementedError("conv2d: unshared convolutions are not supported")
    return Conv2d(border_mode, subsample, filter_flip, filter_dilation, num_groups)(
        input, filters)


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None,
                           border_mode="valid", subsample=(1, 1), filter_flip=True,
                           filter_dilation=(1, 1), **kwargs):
    """The gradient of conv2d with respect to its input (``input_shape`` must
    give all four sizes)."""
    return Conv2dGradInputs(border_mode, subsample, filter_flip, filter_dilation)(
        filters, output_grad, list(input_shape))


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid",
                     input_dilation=(1, 1), filter_flip=True, filter_dilation=(1, 1),
                     **kwargs):
    """Transposed convolution (``subsample`` of the forward conv is
    ``input_dilation`` here); ``output_shape`` gives the result's shape."""
    return Conv2dGradInputs(border_mode, input_dilation, filter_flip, filter_dilation)(
        filters, input, list(output_shape))
