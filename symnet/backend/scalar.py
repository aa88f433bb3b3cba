"""Scalar op -> element expression: the one table every loop emitter uses.

The numba CPU emitters write loops around these expressions today; a CUDA
emitter (numba.cuda kernels are Python source too) writes its own loops
around the same expressions.  The table holds the *semantics* each backend
must match (numpy's NaN rules for max/min/clip, integer true division in
float64, integer powers in float64, rounding that leaves integers alone,
casts to the declared dtype); a ``Spelling`` holds what differs between
backends: how a math function and a cast are written, and fast versions
some backends substitute for some (op, dtype) pairs.

``expression(name, args, in_dtypes, out_dtype, spelling)`` returns the
source of one element, already cast to ``out_dtype``.
"""

__all__ = ["SCALAR", "Spelling", "expression", "cast_expr"]


class Spelling:
    """How one backend writes math functions and casts.

    ``fn(name, *args)`` writes the call of math function ``name`` (numpy's
    names: exp, log1p, rint, ...); ``override(name, args, in_dtypes,
    out_dtype)`` may return a backend's own expression for a whole scalar op
    (None: use the table).  The default spelling is numpy's, which numba
    compiles on CPU.
    """

    module = "np"

    def fn(self, name, *args):
        return f"{self.module}.{name}({', '.join(args)})"

    def cast(self, expr, dtype):
        if dtype == "bool":
            return f"({expr} != 0)"
        return f"{self.module}.{dtype}({expr})"

    def override(self, name, args, in_dtypes, out_dtype):
        return None


def _f(fmt):
    return lambda a, dts, out, sp: fmt.format(*a)


def _call(fn):
    return lambda a, dts, out, sp: sp.fn(fn, a[0])


def _max(a, dts, out, sp):
    x, y = a
    return f"({x} if ({x} >= {y} or {x} != {x}) else {y})"


def _min(a, dts, out, sp):
    x, y = a
    return f"({x} if ({x} <= {y} or {x} != {x}) else {y})"


def _pow(a, dts, out, sp):
    if out in ("float32", "float64", "complex64", "complex128"):
        return f"({a[0]} ** {a[1]})"
    return f"({sp.cast(a[0], 'float64')} ** {sp.cast(a[1], 'float64')})"


def _true_div(a, dts, out, sp):
    if dts[0][0] in "biu" and dts[1][0] in "biu":
        return f"({sp.cast(a[0], 'float64')} / {a[1]})"
    return f"({a[0]} / {a[1]})"


def _invert(a, dts, out, sp):
    return f"(not {a[0]})" if dts[0] == "bool" else f"(~{a[0]})"


def _float_arg(a, dts, sp):
    # an unsigned integer's -x wraps around (uint8 -1 is 255): compute in float64
    return sp.cast(a[0], "float64") if dts[0][0] in "biu" else a[0]


def _softplus(a, dts, out, sp):
    x = _float_arg(a, dts, sp)
    return (f"({x} + {sp.fn('log1p', sp.fn('exp', f'-{x}'))} if {x} > 0 "
            f"else {sp.fn('log1p', sp.fn('exp', x))})")


def _sigmoid(a, dts, out, sp):
    return f"(1.0 / (1.0 + {sp.fn('exp', f'-{_float_arg(a, dts, sp)}')}))"


def _clip(a, dts, out, sp):
    # x < lo is tested first, as in Theano (and the py reference): where
    # lo > hi the result is lo below lo and hi elsewhere
    x, lo, hi = a
    return f"({lo} if {x} < {lo} else {_min([x, hi], dts, out, sp)})"


def _sgn(a, dts, out, sp):
    if dts[0] == "bool":
        return a[0]
    if dts[0][0] == "u":
        # numba's np.sign of an unsigned int is -1 wrapped (255 for uint8)
        # where numpy's is 1
        return f"({a[0]} != 0)"
    return sp.fn("sign", a[0])


def _int_div(a, dts, out, sp):
    x, y = a
    if dts[0][0] == "i" and dts[1][0] == "i":
        # numpy's MIN // -1 wraps to MIN; numba's int64 floor division
        # gives 0 there, so -1 is divided by negation (which wraps the same)
        return f"((-{x}) if {y} == -1 else ({x} // {y}))"
    return f"({x} // {y})"


def _rounding(fn):
    def rule(a, dts, out, sp):
        return a[0] if dts[0][0] in "biu" else sp.fn(fn, a[0])
    return rule


# scalar op name -> rule(args, input dtypes, output dtype, spelling) -> source
SCALAR = {
    "add": _f("({0} + {1})"),
    "sub": _f("({0} - {1})"),
    "mul": _f("({0} * {1})"),
    "true_div": _true_div,
    "int_div": _int_div,
    "mod": _f("({0} % {1})"),
    "pow": _pow,
    "maximum": _max,
    "minimum": _min,
    "arctan2": lambda a, d, o, sp: sp.fn("arctan2", a[0], a[1]),
    "eq": _f("({0} == {1})"),
    "neq": _f("({0} != {1})"),
    "lt": _f("({0} < {1})"),
    "le": _f("({0} <= {1})"),
    "gt": _f("({0} > {1})"),
    "ge": _f("({0} >= {1})"),
    "and_": _f("({0} & {1})"),
    "or_": _f("({0} | {1})"),
    "xor": _f("({0} ^ {1})"),
    "invert": _invert,
    "isnan": _f("({0} != {0})"),
    "neg": _f("(-{0})"),
    "abs": _f("abs({0})"),
    "sgn": _sgn,
    "sqr": _f("({0} * {0})"),
    "reciprocal": _f("(1.0 / {0})"),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "floor": _rounding("floor"),
    "ceil": _rounding("ceil"),
    "round": _rounding("rint"),
    "trunc": _rounding("trunc"),
    "identity": _f("{0}"),
    "second": _f("{1}"),
    "switch": _f("({1} if {0} else {2})"),
    "clip": _clip,
    "cast": _f("{0}"),
}
# one-argument math functions under numpy's name
for _name in ("isinf", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
              "tanh", "sinh", "cosh", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
              "arcsinh", "arccosh", "arctanh"):
    SCALAR[_name] = _call(_name)


def expression(name, args, in_dtypes, out_dtype, spelling):
    """Source of scalar op ``name`` on element expressions ``args``, cast to
    ``out_dtype``; NotImplementedError for a name the table lacks.

    Examples
    --------
    >>> expression("maximum", ["x", "y"], ["float32"] * 2, "float32", Spelling())
    'np.float32((x if (x >= y or x != x) else y))'
    """
    expr = spelling.override(name, list(args), list(in_dtypes), out_dtype)
    if expr is None:
        rule = SCALAR.get(name)
        if rule is None:
            raise NotImplementedError(name)
        expr = rule(list(args), list(in_dtypes), out_dtype, spelling)
    return spelling.cast(expr, out_dtype)


def cast_expr(expr, dtype):
    """``expr`` converted to ``dtype`` in the default (numpy) spelling."""
    return _NUMPY.cast(expr, dtype)


_NUMPY = Spelling()
