"""Elementwise ops: one ``Elemwise`` Op wrapping a table of scalar ops.

Each scalar op declares, on one line of the table, its numpy implementation,
its output dtype rule and its gradient (as tensor graph).  ``Elemwise`` adds
broadcasting: static output shapes, build-time size checks, and summing
gradients over broadcast axes.  ``DimShuffle`` (transpose, add or drop
broadcastable axes) lives here too since broadcasting needs it.

Python scalars are *weak* (NEP 50): ``fmatrix * 2.0`` stays float32,
``bvector - 0.9`` is ``config.floatX``, ``bvector + 1`` stays int8.
"""
import numpy as np

from ...configdefaults import config
from ...graph.basic import Apply, Variable
from ...graph.op import Op
from ..basic import as_tensor_variable, constant
from . import _special_ref as _sref
from ..type import TensorType, normalize_dtype, upcast

__all__ = ["ScalarOp", "Elemwise", "DimShuffle", "SCALAR_OPS", "elemwise",
           "dimshuffle", "transpose", "cast", "broadcast_shapes"]


# -- dtype rules ---------------------------------------------------------------

def same(*dts):
    return upcast(*dts)


def float_out(*dts):
    """Transcendental functions: floats keep their dtype, ints become floatX."""
    dt = upcast(*dts)
    return dt if dt in ("float16", "float32", "float64", "complex64", "complex128") \
        else config.floatX


def bool_out(*dts):
    return "bool"


def int_or_bool(*dts):
    return upcast(*dts)


class ScalarOp:
    """One scalar function: name, arity, numpy implementation, rules."""

    def __init__(self, name, nin, impl, dtype_rule=same, grad=None,
                 commutative=False, associative=False, params=()):
        self.name = name
        self.nin = nin
        self.impl = impl
        self.dtype_rule = dtype_rule
        self.grad_rule = grad
        self.commutative = commutative
        self.associative = associative
        self.params = tuple(params)

    def output_dtype(self, *dtypes):
        return self.dtype_rule(*dtypes)

    def __eq__(self, other):
        return isinstance(other, ScalarOp) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self):
        return hash((self.name, self.params))

    def __str__(self):
        if self.params:
            return f"{self.name}{{{', '.join(map(str, self.params))}}}"
        return self.name

    __repr__ = __str__

    def __reduce_ex__(self, protocol):
        # The table's ops hold lambdas, which do not pickle: a pickle (of a
        # compiled function's graph) names the op and the table rebuilds it.
        if type(self) is ScalarOp and SCALAR_OPS.get(self.name) == self:
            return (_scalar_op_named, (self.name,))
        return super().__reduce_ex__(protocol)


def _scalar_op_named(name):
    return SCALAR_OPS[name]


class Cast(ScalarOp):
    def __init__(self, dtype):
        dtype = normalize_dtype(dtype)
        super().__init__("cast", 1, lambda x: x.astype(dtype), lambda *d: dtype,
                         grad=_g_cast, params=(dtype,))
        self.dtype = dtype

    def __reduce__(self):
        return (Cast, (self.dtype,))


# -- broadcasting ---------------------------------------------------------------

def broadcast_shapes(shapes, names=None):
    """Static output shape of broadcasting same-ndim static shapes, or raise."""
    ndim = len(shapes[0])
    out = []
    for axis in range(ndim):
        sizes = [s[axis] for s in shapes]
        known = {s for s in sizes if s is not None and s != 1}
        if len(known) > 1:
            names = names or [f"input {i}" for i in range(len(shapes))]
            desc = ", ".join(f"{n} of shape {_fmt(s)}" for n, s in zip(names, shapes))
            raise ValueError(
                f"shapes do not broadcast along axis {axis} ({sorted(known)}): {desc}")
        if known:
            out.append(known.pop())
        elif all(s == 1 for s in sizes):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _fmt(shape):
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


class Elemwise(Op):
    """Apply a scalar op elementwise, with broadcasting.

    ``inplace`` names an input whose storage the output may reuse (set only
    by the in-place rewrite, never by users).
    """

    __props__ = ("scalar_op", "inplace")

    def __init__(self, scalar_op, inplace=None):
        self.scalar_op = scalar_op
        self.inplace = inplace
        self.destroy_map = {0: [inplace]} if inplace is not None else {}

    @property
    def name(self):
        """Theano's ``op.name`` of an elemwise op: ``Elemwise{mul,no_inplace}``."""
        return str(self)

    def short_name(self):
        s = str(self.scalar_op)
        return s if self.inplace is None else f"{s}[inplace:{self.inplace}]"

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        if len(inputs) != self.scalar_op.nin:
            raise TypeError(f"{self.scalar_op} takes {self.scalar_op.nin} inputs, "
                            f"got {len(inputs)}")
        ndim = max(i.ndim for i in inputs)
        inputs = [_pad_left(i, ndim) for i in inputs]
        try:  # names only on error: describing every input is costly on big graphs
            shape = broadcast_shapes([i.type.shape for i in inputs])
        except ValueError:
            shape = broadcast_shapes([i.type.shape for i in inputs],
                                     [_describe(i) for i in inputs])
        dtype = self.scalar_op.output_dtype(*[i.dtype for i in inputs])
        out = TensorType(dtype, shape=shape)()
        return Apply(self, inputs, [out])

    def perform(self, node, inputs, output_storage):
        out_type = node.outputs[0].type
        _check_runtime_broadcast(node, inputs)
        if self.inplace is not None:
            target = inputs[self.inplace]
            result = _perform_inplace(self.scalar_op.impl, inputs, target,
                                      out_type.numpy_dtype)
            if result is not None:
                output_storage[0][0] = result
                return
        result = self.scalar_op.impl(*inputs)
        if not isinstance(result, np.ndarray) or result.dtype != out_type.numpy_dtype:
            result = np.asarray(result, dtype=out_type.dtype)
        output_storage[0][0] = result

    def infer_shape(self, node, input_shapes):
        from .shape import shape_i
        out = []
        for axis, size in enumerate(node.outputs[0].type.shape):
            if size is not None:
                out.append(size)
                continue
            for inp, shp in zip(node.inputs, input_shapes):
                if not inp.type.broadcastable[axis]:
                    out.append(shp[axis])
                    break
            else:
                out.append(1)
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        rule = self.scalar_op.grad_rule
        if rule is None:
            from ...graph.op import grad_undefined
            return [grad_undefined(self, i, inputs[i]) for i in range(len(inputs))]
        grads = rule(inputs, outputs[0], output_grads[0])
        out = []
        for inp, g in zip(inputs, grads):
            if g is None:
                out.append(None)
                continue
            out.append(sum_to_input(g, inp))
        return out



def _perform_inplace(impl, inputs, target, dtype):
    """Compute into ``target`` (the destroyed input), or None when it cannot
    hold the result (the in-place rewrite only picks inputs that can).

    A numpy ufunc writes with ``out=``; other implementations compute and copy.
    """
    if not (isinstance(target, np.ndarray) and target.dtype == dtype
            and target.flags.writeable):
        return None
    if isinstance(impl, np.ufunc) and impl.nout == 1:
        try:
            shape = np.broadcast_shapes(*[np.shape(i) for i in inputs])
        except ValueError:
            return None
        if shape != target.shape:
            return None
        try:
            impl(*inputs, out=target)
        except TypeError:  # a cast numpy refuses: compute then copy below
            pass
        else:
            return target
    result = np.asarray(impl(*inputs))
    if result.shape != target.shape:
        return None
    np.copyto(target, result, casting="unsafe")
    return target


def _describe(v):
    return f"{v.name or v} {'(' + v.dtype + ')'}"


def _pad_left(v, ndim):
    if v.ndim == ndim:
        return v
    return dimshuffle(v, ("x",) * (ndim - v.ndim) + tuple(range(v.ndim)))


def _check_runtime_broadcast(node, inputs):
    """Theano's rule: only axes declared broadcastable may broadcast, so
    gradients keep their inputs' shapes."""
    if len(inputs) < 2:
        return
    ref = None
    for i, (var, val) in enumerate(zip(node.inputs, inputs)):
        bc = var.type.broadcastable
        if np.ndim(val) != len(bc):
            # only an unchecked call (trust_input=True) gets here
            raise TypeError(
                f"{node.op.short_name()}: input {i} ({var}) has type {var.type} but its "
                f"value has {np.ndim(val)} dims (shape {np.shape(val)}); "
                f"trust_input=True skips the check of the inputs")
        for axis, size in enumerate(np.shape(val)):
            if bc[axis]:
                continue
            if ref is None:
                ref = [None] * len(bc)
            if ref[axis] is None:
                ref[axis] = size
            elif ref[axis] != size:
                shapes = ", ".join(str(np.shape(v)) for v in inputs)
                raise ValueError(
                    f"{node.op}: input shapes {shapes} do not match along axis "
                    f"{axis} ({ref[axis]} vs {size}); only axes declared "
                    f"broadcastable may broadcast")


def sum_to_input(g, inp):
    """Sum a gradient over the axes where ``inp`` was broadcast."""
    from .reduction import sum as _sum
    if g.ndim != inp.ndim:
        raise ValueError(f"gradient {g} has {g.ndim} dims for input {inp} with {inp.ndim}")
    axes = [a for a, (bi, bg) in enumerate(zip(inp.broadcastable, g.broadcastable))
            if bi and not bg]
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    if g.dtype != inp.dtype and inp.dtype in ("float16", "float32", "float64"):
        g = cast(g, inp.dtype)
    return g


# -- DimShuffle -------------------------------------------------------------------

class DimShuffle(Op):
    """Reorder axes, insert broadcastable axes ('x'), drop size-1 axes.

    ``new_order`` lists, for each output axis, an input axis or 'x'.
    Theano's form ``DimShuffle(input_broadcastable, new_order, inplace=False)``
    is accepted too: the pattern is then checked against the input's
    dimensions (``inplace`` means nothing here: the output is always a view).
    """

    __props__ = ("new_order",)
    view_map = {0: [0]}   # an index and a transpose: always a view

    def __init__(self, *args, inplace=False):
        if len(args) not in (1, 2, 3):
            raise TypeError(f"DimShuffle(new_order) or DimShuffle(input_broadcastable, "
                            f"new_order, inplace=False), got {len(args)} arguments")
        self.input_broadcastable = tuple(args[0]) if len(args) > 1 else None
        self.new_order = tuple(args[-1] if len(args) < 3 else args[1])

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.input_broadcastable is not None and \
                len(self.input_broadcastable) != x.ndim:
            raise TypeError(f"DimShuffle{self.new_order}: expected an input with "
                            f"{len(self.input_broadcastable)} dimensions "
                            f"{self.input_broadcastable}, got {x} with {x.ndim}")
        kept = [d for d in self.new_order if d != "x"]
        twice = sorted({d for d in kept if kept.count(d) > 1})
        if twice:
            raise ValueError(f"dimshuffle{self.new_order}: axis {twice[0]} of {x} may not "
                             f"appear twice in the pattern")
        if any(not 0 <= d < x.ndim for d in kept):
            raise ValueError(f"dimshuffle{self.new_order}: invalid pattern for {x} "
                             f"with {x.ndim} dimensions")
        for d in range(x.ndim):
            if d not in kept and x.type.shape[d] != 1:
                raise ValueError(
                    f"dimshuffle{self.new_order} drops axis {d} of {x} (static "
                    f"shape {_fmt(x.type.shape)}), which is not broadcastable; use "
                    f"T.addbroadcast or a reduction")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        kept = [d for d in self.new_order if d != "x"]
        dropped = [d for d in range(x.ndim) if d not in kept]
        if any(x.shape[d] != 1 for d in dropped):
            raise ValueError(f"{self}: cannot drop axis of size != 1 from shape {x.shape}")
        y = np.transpose(x, kept + dropped).reshape(
            tuple(x.shape[d] for d in kept))
        shape = tuple(1 if d == "x" else x.shape[d] for d in self.new_order)
        output_storage[0][0] = y.reshape(shape)

    def infer_shape(self, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(1 if d == "x" else shp[d] for d in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        kept = [d for d in self.new_order if d != "x"]
        # output axes holding input axis d, in input order; dropped axes -> 'x'
        pos = {d: i for i, d in enumerate(self.new_order) if d != "x"}
        # first drop the 'x' axes of gz (they are size 1), then reorder
        gz_kept = dimshuffle(gz, tuple(i for i, d in enumerate(self.new_order) if d != "x"))
        order = []
        rank = {d: k for k, d in enumerate(sorted(kept, key=lambda d: pos[d]))}
        for d in range(x.ndim):
            order.append(rank[d] if d in pos else "x")
        g = dimshuffle(gz_kept, tuple(order))
        return [g]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def dimshuffle(x, pattern):
    """``x.dimshuffle(pattern)``; a no-op pattern returns ``x``."""
    x = as_tensor_variable(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    if any(isinstance(p, str) and p != "x" for p in pattern):
        raise ValueError(f"dimshuffle pattern items must be ints or 'x', got {pattern}")
    return DimShuffle(pattern)(x)


def transpose(x, axes=None):
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(a % x.ndim if x.ndim else a for a in axes)
    out = dimshuffle(x, axes)
    if x.name and out is not x and axes == tuple(reversed(range(x.ndim))):
        out.name = x.name + ".T"   # Theano names the full transpose of a named x
    return out


# -- weak scalars and the public function factory -----------------------------------

_WEAK = (bool, int, float, complex)


def weak_constants(args):
    """Turn Python scalars into constants per NEP 50 with floatX as default float.

    Returns the list of tensor inputs, with integer tensors cast to floatX
    when a weak Python float meets only integer/bool tensors.
    """
    strong = [a for a in args if not (isinstance(a, _WEAK) and not isinstance(a, np.generic))]
    strong = [as_tensor_variable(a) for a in strong]
    if len(strong) == len(args):
        return strong
    sdts = [s.dtype for s in strong]
    common = upcast(*sdts) if sdts else None
    has_weak_float = any(isinstance(a, float) for a in args)
    if has_weak_float and (common is None or np.dtype(common).kind in "biu"):
        float_target = config.floatX
    else:
        float_target = common
    out = []
    it = iter(strong)
    for a in args:
        if not isinstance(a, _WEAK) or isinstance(a, np.generic):
            v = next(it)
            if float_target is not None and np.dtype(v.dtype).kind in "biu" \
                    and has_weak_float:
                v = cast(v, float_target)
            out.append(v)
        elif isinstance(a, bool):
            out.append(constant(np.asarray(a, dtype=common or "bool")))
        elif isinstance(a, int):
            if common is None or common == "bool":
                out.append(constant(a))
            elif np.dtype(common).kind in "iu":
                info = np.iinfo(common)
                dt = common if info.min <= a <= info.max else constant(a).dtype
                out.append(_weak_const(a, dt))
            else:
                out.append(_weak_const(a, common))
        elif isinstance(a, float):
            out.append(_weak_const(a, float_target or config.floatX))
        else:
            out.append(constant(np.asarray(a, dtype=common if common and "complex" in common
                                           else "complex128")))
    return out


_WEAK_CACHE = {}


def _weak_const(value, dtype):
    """The constant for a Python scalar at ``dtype``, shared between graphs.

    Constants are immutable, so ``x + 1`` built 100,000 times can reuse one
    (Theano caches them the same way); the key uses ``repr`` so that -0.0
    and 0.0, or True and 1, stay distinct.
    """
    key = (type(value), repr(value), dtype)
    c = _WEAK_CACHE.get(key)
    if c is None:
        if len(_WEAK_CACHE) > 4096:
            _WEAK_CACHE.clear()
        c = _WEAK_CACHE[key] = constant(np.asarray(value, dtype=dtype))
        if type(value) is int and np.dtype(dtype).kind in "fc":
            # Theano kept a Python int an int constant (the op upcast it):
            # its printouts show ``TensorConstant{1}``, and so do symnet's
            c.tag.python_int = True
    return c


_ELEMWISE_CACHE = {}


def elemwise(scalar_op, *args):
    """Build ``Elemwise(scalar_op)`` on ``args`` (Python scalars are weak)."""
    op = _ELEMWISE_CACHE.get(scalar_op)
    if op is None:
        op = _ELEMWISE_CACHE[scalar_op] = Elemwise(scalar_op)
    out = op(*weak_constants(args))
    if scalar_op.dtype_rule is bool_out and scalar_op.nin == 2:
        out.tag.comparison = True
    return out


def cast(x, dtype):
    """``x`` converted to ``dtype`` (returns ``x`` itself when it already is)."""
    if dtype == "floatX":
        dtype = config.floatX
    dtype = normalize_dtype(dtype)
    x = as_tensor_variable(x)
    if x.dtype == dtype:
        return x
    if x.dtype.startswith("complex") and not dtype.startswith("complex"):
        # numpy would drop the imaginary part (with a warning); Theano refused
        raise TypeError(f"cast of {x} ({x.dtype}) to {dtype} would drop its imaginary part; "
                        f"take T.real or T.abs_ first")
    return elemwise(Cast(dtype), x)


# -- gradient rules (tensor graph; ``T`` resolved lazily to avoid cycles) -------

def _T():
    from ... import tensor
    return tensor


def _is_float(v):
    return v.dtype in ("float16", "float32", "float64", "complex64", "complex128")


def _g_cast(inputs, out, gz):
    (x,) = inputs
    if _is_float(x) and _is_float(out):
        return [cast(gz, x.dtype)]
    if _is_float(out) and x.dtype != "bool":
        # an integer cast to float gets the float gradient, as in Theano: the
        # gradient wrt an integer input is the one wrt the same values as floats
        return [gz]
    return [None]


def _unary(fn):
    """Gradient rule of a unary op from d out / d x as a function of (x, out)."""
    def rule(inputs, out, gz):
        (x,) = inputs
        if not _is_float(x):
            return [None]
        return [gz * fn(x, out)]
    return rule


def _g_add(inputs, out, gz):
    return [gz if _is_float(i) else None for i in inputs]


def _g_sub(inputs, out, gz):
    x, y = inputs
    return [gz if _is_float(x) else None, -gz if _is_float(y) else None]


def _g_mul(inputs, out, gz):
    x, y = inputs
    return [gz * y if _is_float(x) else None, gz * x if _is_float(y) else None]


def _g_div(inputs, out, gz):
    x, y = inputs
    return [gz / y if _is_float(x) else None,
            -gz * x / (y * y) if _is_float(y) else None]


def _g_pow(inputs, out, gz):
    T = _T()
    x, y = inputs
    gx = gz * y * T.pow(x, y - 1) if _is_float(x) else None
    gy = gz * out * T.log(T.switch(T.eq(x, 0), 1, x)) if _is_float(y) else None
    return [gx, gy]


def _g_maximum(inputs, out, gz):
    # Theano's convention: at a tie the first input alone receives the
    # gradient, so d maximum(x, x) / dx is 1, the derivative of x.
    T = _T()
    x, y = inputs
    return [gz * T.eq(out, x) if _is_float(x) else None,
            gz * T.neq(out, x) if _is_float(y) else None]


def _g_none(inputs, out, gz):
    return [None] * len(inputs)


def _second(x, y):
    # a fresh array: a broadcast view of y would alias an input
    return np.array(np.broadcast_to(y, np.broadcast_shapes(np.shape(x), np.shape(y))))


def _g_second(inputs, out, gz):
    # only y's values reach the output; x gives its shape
    return [None, gz if _is_float(inputs[1]) else None]


def _g_switch(inputs, out, gz):
    T = _T()
    c, a, b = inputs
    zero = T.zeros_like(gz)
    return [None,
            T.switch(c, gz, zero) if _is_float(a) else None,
            T.switch(c, zero, gz) if _is_float(b) else None]


def _g_clip(inputs, out, gz):
    # Theano's convention: the gradient passes at the bounds themselves.
    T = _T()
    x, lo, hi = inputs
    gx = gz * T.and_(T.ge(x, lo), T.le(x, hi))
    glo = gz * T.lt(x, lo) if _is_float(lo) else None
    ghi = gz * T.gt(x, hi) if _is_float(hi) else None
    return [gx if _is_float(x) else None, glo, ghi]


def _g_identity(inputs, out, gz):
    return [gz if _is_float(inputs[0]) else None]


def _sigmoid(x):
    with np.errstate(over="ignore"):
        out = 1.0 / (1.0 + np.exp(-x))
    return out


def _softplus(x):
    return np.logaddexp(np.zeros((), dtype=x.dtype), x)


def _round_half_even(x):
    return np.round(x)


def _sgn(x):
    return np.sign(x)


def _invert(x):
    return np.logical_not(x) if x.dtype == np.bool_ else np.invert(x)


def _true_div(x, y):
    return np.true_divide(x, y)


def _pow(x, y):
    if np.issubdtype(np.result_type(x, y), np.integer):
        return np.power(x, y.astype(np.int64) if np.any(y < 0) else y) if False else \
            np.power(x.astype(np.float64), y).astype(np.result_type(x, y))
    return np.power(x, y)


def _clip(x, lo, hi):
    # Theano's clip, not numpy 2's: where lo > hi, x below lo gives lo (numpy's
    # minimum(maximum(x, lo), hi) gives hi everywhere there).
    return np.where(x < lo, lo, np.minimum(x, hi))


_u = _unary
# name: (nin, numpy impl, dtype rule, gradient rule, commutative)
_TWO_BY_SQRT_PI = float(2 / np.sqrt(np.pi))

TABLE = {
    # arithmetic
    "add": (2, np.add, same, _g_add, True),
    "sub": (2, np.subtract, same, _g_sub, False),
    "mul": (2, np.multiply, same, _g_mul, True),
    "true_div": (2, _true_div, float_out, _g_div, False),
    "int_div": (2, np.floor_divide, same, _g_none, False),
    "mod": (2, np.mod, same, lambda i, o, g: [g if _is_float(i[0]) else None,
                                              -g * _T().floor(i[0] / i[1])
                                              if _is_float(i[1]) else None], False),
    "pow": (2, _pow, same, _g_pow, False),
    "maximum": (2, np.maximum, same, _g_maximum, True),
    "minimum": (2, np.minimum, same, _g_maximum, True),
    "arctan2": (2, np.arctan2, float_out,
                lambda i, o, g: [g * i[1] / (i[0] * i[0] + i[1] * i[1]),
                                 -g * i[0] / (i[0] * i[0] + i[1] * i[1])], False),
    # comparisons and logic: not differentiable, gradients disconnected
    "eq": (2, np.equal, bool_out, _g_none, True),
    "neq": (2, np.not_equal, bool_out, _g_none, True),
    "lt": (2, np.less, bool_out, _g_none, False),
    "le": (2, np.less_equal, bool_out, _g_none, False),
    "gt": (2, np.greater, bool_out, _g_none, False),
    "ge": (2, np.greater_equal, bool_out, _g_none, False),
    "and_": (2, np.bitwise_and, int_or_bool, _g_none, True),
    "or_": (2, np.bitwise_or, int_or_bool, _g_none, True),
    "xor": (2, np.bitwise_xor, int_or_bool, _g_none, True),
    "invert": (1, _invert, same, _g_none, False),
    "isnan": (1, np.isnan, bool_out, _g_none, False),
    "isinf": (1, np.isinf, bool_out, _g_none, False),
    # unary math
    "neg": (1, np.negative, same, lambda i, o, g: [-g if _is_float(i[0]) else None], False),
    "abs": (1, np.abs, same, _u(lambda x, o: _T().sgn(x)), False),
    "sgn": (1, _sgn, same, _g_none, False),
    "exp": (1, np.exp, float_out, _u(lambda x, o: o), False),
    "exp2": (1, np.exp2, float_out, _u(lambda x, o: o * float(np.log(2.0))), False),
    "expm1": (1, np.expm1, float_out, _u(lambda x, o: o + 1), False),
    "log": (1, np.log, float_out, _u(lambda x, o: 1 / x), False),
    "log2": (1, np.log2, float_out, _u(lambda x, o: 1 / (x * float(np.log(2.0)))), False),
    "log10": (1, np.log10, float_out, _u(lambda x, o: 1 / (x * float(np.log(10.0)))), False),
    "log1p": (1, np.log1p, float_out, _u(lambda x, o: 1 / (1 + x)), False),
    "sqrt": (1, np.sqrt, float_out, _u(lambda x, o: 0.5 / o), False),
    "sqr": (1, np.square, same, _u(lambda x, o: 2 * x), False),
    "reciprocal": (1, np.reciprocal, float_out, _u(lambda x, o: -(o * o)), False),
    "tanh": (1, np.tanh, float_out, _u(lambda x, o: 1 - o * o), False),
    "sinh": (1, np.sinh, float_out, _u(lambda x, o: _T().cosh(x)), False),
    "cosh": (1, np.cosh, float_out, _u(lambda x, o: _T().sinh(x)), False),
    "sin": (1, np.sin, float_out, _u(lambda x, o: _T().cos(x)), False),
    "cos": (1, np.cos, float_out, _u(lambda x, o: -_T().sin(x)), False),
    "tan": (1, np.tan, float_out, _u(lambda x, o: 1 + o * o), False),
    "arcsin": (1, np.arcsin, float_out, _u(lambda x, o: 1 / _T().sqrt(1 - x * x)), False),
    "arccos": (1, np.arccos, float_out, _u(lambda x, o: -1 / _T().sqrt(1 - x * x)), False),
    "arctan": (1, np.arctan, float_out, _u(lambda x, o: 1 / (1 + x * x)), False),
    "arcsinh": (1, np.arcsinh, float_out, _u(lambda x, o: 1 / _T().sqrt(x * x + 1)), False),
    "arccosh": (1, np.arccosh, float_out, _u(lambda x, o: 1 / _T().sqrt(x * x - 1)), False),
    "arctanh": (1, np.arctanh, float_out, _u(lambda x, o: 1 / (1 - x * x)), False),
    "sigmoid": (1, _sigmoid, float_out, _u(lambda x, o: o * (1 - o)), False),
    "softplus": (1, _softplus, float_out, _u(lambda x, o: _T().nnet.sigmoid(x)), False),
    # special functions (numpy references in _special_ref.py)
    "erf": (1, _sref.erf, float_out, _u(lambda x, o: _TWO_BY_SQRT_PI * _T().exp(-x * x)), False),
    "erfc": (1, _sref.erfc, float_out, _u(lambda x, o: -_TWO_BY_SQRT_PI * _T().exp(-x * x)),
             False),
    "gamma": (1, _sref.gamma, float_out, _u(lambda x, o: o * _T().psi(x)), False),
    "gammaln": (1, _sref.gammaln, float_out, _u(lambda x, o: _T().psi(x)), False),
    "psi": (1, _sref.psi, float_out, _u(lambda x, o: _T().tri_gamma(x)), False),
    "tri_gamma": (1, _sref.tri_gamma, float_out, _sref.no_tri_gamma_grad, False),
    "floor": (1, np.floor, same, _g_none, False),
    "ceil": (1, np.ceil, same, _g_none, False),
    "round": (1, _round_half_even, same, _g_none, False),
    "trunc": (1, np.trunc, same, _g_none, False),
    "identity": (1, np.copy, same, _g_identity, False),
    # Theano's second (its fill): y broadcast with x, the gradient seed
    "second": (2, _second, lambda x, y: y, _g_second, False),
    # ternary
    "switch": (3, np.where, lambda c, a, b: upcast(a, b), _g_switch, False),
    "clip": (3, _clip, lambda x, lo, hi: upcast(x, lo, hi), _g_clip, False),
}

def _ints_as_float64(impl):
    """``impl`` on integer (and bool) inputs made float64 first, as the
    compiled backends compute them: numpy's own rule would compute in
    float16 for int8/uint8 (three digits), and ``-x`` of an unsigned
    integer wraps around (sigmoid of uint8 1 was 0)."""
    def run(*args):
        if all(getattr(a, "dtype", np.dtype("f8")).kind in "biu" for a in args):
            args = [np.asarray(a, dtype=np.float64) for a in args]
        return impl(*args)
    run.__name__ = getattr(impl, "__name__", "impl")
    return run


SCALAR_OPS = {name: ScalarOp(name, nin, _ints_as_float64(impl) if rule is float_out else impl,
                             rule, grad, commutative=comm,
                             associative=comm and name in ("add", "mul"))
              for name, (nin, impl, rule, grad, comm) in TABLE.items()}


class Composite(ScalarOp):
    """Several scalar ops fused into one (made by the fusion rewrite).

    ``program`` is a tuple of steps ``(scalar_op, refs, dtype)``: a ref
    ``< nin`` names an input, ``nin + k`` the result of step ``k``.
    ``out`` is the ref of the result.  A backend compiles the program into a
    single loop; ``impl`` runs it with numpy (the reference).
    """

    def __init__(self, nin, program, out):
        self.program = tuple((op, tuple(refs), dtype) for op, refs, dtype in program)
        self.out = out
        final_dtype = self.program[out - nin][2] if out >= nin else None
        super().__init__("composite", nin, self._run, lambda *d: final_dtype,
                         grad=None, params=(nin, self.program, out))

    def __reduce__(self):
        return (Composite, (self.nin, self.program, self.out))

    def _run(self, *inputs):
        vals = list(inputs)
        for op, refs, dtype in self.program:
            vals.append(np.asarray(op.impl(*[vals[r] for r in refs]), dtype=dtype))
        return vals[self.out]

    def __str__(self):
        names = [f"i{k}" for k in range(self.nin)]
        for op, refs, _ in self.program:
            names.append(f"{op}({', '.join(names[r] for r in refs)})")
        return f"Composite{{{names[self.out]}}}"
