"""Element expressions of ``backend/scalar.py`` lowered to LLVM IR.

The numba emitters get the source of one element from the shared table
(``scalar.expression`` through ``elemwise.scalar_expr``, with the numba
backend's own ``CpuSpelling``) and numba compiles that Python.  This module
takes the very same source text and lowers it with ``llvmlite.ir``, so the
semantics live in ONE table: a rule changed there changes both emitters.

The text is a small subset of Python, parsed with ``ast``:

* names (element values, earlier temporaries), literals, ``np.nan`` and
  ``np.inf``;
* ``BinOp`` (+ - * / // % ** & | ^), ``UnaryOp`` (- not ~), one-operator
  ``Compare``, ``BoolOp`` (or/and of booleans), ``IfExp`` (a ``select``:
  both sides are computed, which is fine: they have no side effects);
* calls: ``np.<dtype>(x)`` (a cast), ``np.<math function>(x)``, ``abs``,
  and the float32 helpers ``_exp32``/``_tanh32``/``_sigmoid32`` (the IR
  versions of ``lib/fastmath32.py``, see ``fastmath32.py`` here).

Types follow numba's typing of the same text, as far as the results can
tell: Python int and float literals are int64 and float64, two operands
meet in numpy's ``promote_types`` (integer arithmetic in a wider type than
numba's and then cast gives the same bits: it is modular), a math function
of an integer is computed in float64.  Whatever falls outside the subset
(complex numbers, float ``//`` and ``%``, an unknown function) raises
``NotImplementedError``: the kernel is then compiled by numba as before.

Float instructions carry the numba kernels' fast-math flags (``FASTMATH``
of ``codegen.py``: no ``nnan``/``ninf``, so NaN tests keep working).
"""
import ast

import numpy as np
from llvmlite import ir

from ..codegen import FASTMATH
from .types import BOOL, FLOAT_TYPES, INT_TYPES, llvm_type

__all__ = ["Lowerer", "llvm_type", "INT_TYPES", "FLOAT_TYPES"]


def _is_float(dt):
    return dt in FLOAT_TYPES


def _signed(dt):
    return dt.startswith("int")


def _promote(a, b):
    if a == b:
        return a
    return str(np.promote_types(a, b))


# math functions: LLVM intrinsics where LLVM has one, else the C library's
# (``f`` suffix for float32); the process has libm loaded (numpy needs it)
_INTRINSIC = {"exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10",
              "sqrt": "sqrt", "sin": "sin", "cos": "cos", "floor": "floor", "ceil": "ceil",
              "rint": "rint", "trunc": "trunc", "fabs": "fabs"}
_LIBM = {"expm1": "expm1", "log1p": "log1p", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
         "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
         "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}
_HELPERS = ("_exp32", "_tanh32", "_sigmoid32")
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


class Lowerer:
    """Lowers element expressions into one function being built.

    ``env`` maps names to ``(llvm value, dtype)``; ``assign(name, text)``
    lowers ``text`` and binds ``name``; ``value(text)`` returns the pair.
    """

    def __init__(self, builder, module, env=None):
        self.b = builder
        self.module = module
        self.env = dict(env or {})

    # -- entry points -----------------------------------------------------------

    def value(self, text):
        return self._lower(ast.parse(text.strip(), mode="eval").body)

    def assign(self, name, text):
        self.env[name] = self.value(text)
        return self.env[name]

    def lines(self, lines):
        """Lower ``name = expr`` lines (a composite op's steps)."""
        for line in lines:
            name, _, text = line.partition(" = ")
            self.assign(name.strip(), text)

    def cast(self, val, to):
        """``(value, dtype)`` converted to ``to`` (numpy's C casts; a float
        to an integer truncates; anything to bool is ``!= 0``)."""
        v, dt = val
        if dt == to:
            return v
        b = self.b
        if to == "bool":
            if _is_float(dt):
                return b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0))
            return b.icmp_unsigned("!=", v, ir.Constant(v.type, 0))
        t = llvm_type(to)
        if _is_float(to):
            if _is_float(dt):
                return b.fpext(v, t) if dt == "float32" else b.fptrunc(v, t)
            if dt == "bool" or not _signed(dt):
                return b.uitofp(v, t)
            return b.sitofp(v, t)
        if _is_float(dt):
            return b.fptosi(v, t) if _signed(to) else b.fptoui(v, t)
        if t.width == v.type.width:
            return v
        if t.width < v.type.width:
            return b.trunc(v, t)
        return b.sext(v, t) if _signed(dt) else b.zext(v, t)

    # -- the subset -------------------------------------------------------------

    def _lower(self, node):
        kind = type(node).__name__
        fn = getattr(self, "_" + kind, None)
        if fn is None:
            raise NotImplementedError(f"llvm emitter: {kind}")
        return fn(node)

    def _Name(self, node):
        if node.id in ("True", "False"):
            return ir.Constant(BOOL, node.id == "True"), "bool"
        if node.id not in self.env:
            raise NotImplementedError(f"llvm emitter: name {node.id}")
        return self.env[node.id]

    def _Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            return ir.Constant(BOOL, int(v)), "bool"
        if isinstance(v, int):
            return ir.Constant(ir.IntType(64), v), "int64"
        if isinstance(v, float):
            return ir.Constant(ir.DoubleType(), v), "float64"
        raise NotImplementedError(f"llvm emitter: constant {v!r}")

    def _Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "np" and \
                node.attr in ("nan", "inf"):
            return ir.Constant(ir.DoubleType(), float(node.attr)), "float64"
        raise NotImplementedError(f"llvm emitter: attribute {node.attr}")

    def _flag(self, instr):
        instr.flags.extend(FASTMATH)
        return instr

    def _UnaryOp(self, node):
        v, dt = self._lower(node.operand)
        b = self.b
        if isinstance(node.op, ast.Not):
            return b.not_(self.cast((v, dt), "bool")), "bool"
        if isinstance(node.op, ast.USub):
            if _is_float(dt):
                return self._flag(b.fneg(v)), dt
            if dt == "bool":
                v, dt = self.cast((v, dt), "int64"), "int64"
            return b.neg(v), dt
        if isinstance(node.op, ast.Invert) and not _is_float(dt) and dt != "bool":
            return b.not_(v), dt
        raise NotImplementedError("llvm emitter: unary op")

    def _pair(self, left, right, to=None):
        lv, rv = self._lower(left), self._lower(right)
        dt = to or _promote(lv[1], rv[1])
        return self.cast(lv, dt), self.cast(rv, dt), dt

    def _BinOp(self, node):
        op = type(node.op).__name__
        b = self.b
        if op in ("BitAnd", "BitOr", "BitXor"):
            x, y, dt = self._pair(node.left, node.right)
            if _is_float(dt):
                raise NotImplementedError("llvm emitter: bit op on floats")
            f = {"BitAnd": b.and_, "BitOr": b.or_, "BitXor": b.xor}[op]
            return f(x, y), dt
        x, y, dt = self._pair(node.left, node.right)
        if dt == "bool":      # numba: arithmetic on booleans is integer arithmetic
            x, y, dt = b.zext(x, ir.IntType(64)), b.zext(y, ir.IntType(64)), "int64"
        if op == "Div":
            if not _is_float(dt):
                x, y, dt = self.cast((x, dt), "float64"), self.cast((y, dt), "float64"), "float64"
            return self._flag(b.fdiv(x, y)), dt
        if op == "Pow":
            if not _is_float(dt):
                raise NotImplementedError("llvm emitter: integer power")
            return self._call_intrinsic("pow", [x, y], dt), dt
        if op in ("FloorDiv", "Mod"):
            if _is_float(dt):
                raise NotImplementedError("llvm emitter: float // and %")
            return self._int_divmod(x, y, dt, op == "Mod"), dt
        if _is_float(dt):
            f = {"Add": b.fadd, "Sub": b.fsub, "Mult": b.fmul}.get(op)
            if f is None:
                raise NotImplementedError(f"llvm emitter: {op}")
            return self._flag(f(x, y)), dt
        f = {"Add": b.add, "Sub": b.sub, "Mult": b.mul}.get(op)
        if f is None:
            raise NotImplementedError(f"llvm emitter: {op}")
        return f(x, y), dt

    def _int_divmod(self, x, y, dt, mod):
        """numpy's integer ``//`` and ``%``: rounding toward minus infinity,
        the remainder takes the divisor's sign, a zero divisor gives 0, and
        MIN // -1 wraps (no trap: the divisor is made safe first)."""
        b = self.b
        t = x.type
        zero, one = ir.Constant(t, 0), ir.Constant(t, 1)
        bad = b.icmp_unsigned("==", y, zero)
        if _signed(dt):
            bad = b.or_(bad, b.icmp_signed("==", y, ir.Constant(t, -1)))
        safe = b.select(bad, one, y)
        if not _signed(dt):
            q, r = b.udiv(x, safe), b.urem(x, safe)
        else:
            q, r = b.sdiv(x, safe), b.srem(x, safe)
            # the remainder's sign differs from the divisor's: floor, not truncate
            fix = b.and_(b.icmp_signed("!=", r, zero),
                         b.icmp_signed("<", b.xor(r, safe), zero))
            q = b.select(fix, b.sub(q, one), q)
            r = b.select(fix, b.add(r, safe), r)
            minus_one = b.icmp_signed("==", y, ir.Constant(t, -1))
            q = b.select(minus_one, b.neg(x), q)
            r = b.select(minus_one, zero, r)
        zero_div = b.icmp_unsigned("==", y, zero)
        return b.select(zero_div, zero, r if mod else q)

    def _Compare(self, node):
        if len(node.ops) != 1:
            raise NotImplementedError("llvm emitter: chained comparison")
        x, y, dt = self._pair(node.left, node.comparators[0])
        op = _CMP.get(type(node.ops[0]))
        if op is None:
            raise NotImplementedError("llvm emitter: comparison")
        b = self.b
        if _is_float(dt):
            # != is true for NaN (unordered), the others false (ordered), as in C
            f = b.fcmp_unordered if op == "!=" else b.fcmp_ordered
            return f(op, x, y), "bool"
        if dt == "bool" or not _signed(dt):
            return b.icmp_unsigned(op, x, y), "bool"
        return b.icmp_signed(op, x, y), "bool"

    def _BoolOp(self, node):
        vals = [self.cast(self._lower(v), "bool") for v in node.values]
        f = self.b.or_ if isinstance(node.op, ast.Or) else self.b.and_
        out = vals[0]
        for v in vals[1:]:
            out = f(out, v)
        return out, "bool"

    def _IfExp(self, node):
        cond = self.cast(self._lower(node.test), "bool")
        x, y, dt = self._pair(node.body, node.orelse)
        return self.b.select(cond, x, y), dt

    def _Call(self, node):
        f = node.func
        if node.keywords or len(node.args) not in (1, 2):
            raise NotImplementedError("llvm emitter: call")
        args = [self._lower(a) for a in node.args]
        if isinstance(f, ast.Name):
            if f.id == "abs" and len(args) == 1:
                return self._abs(*args)
            if f.id in _HELPERS and args[0][1] == "float32":
                from .fastmath32 import helper
                return self.b.call(helper(self.module, f.id), [args[0][0]]), "float32"
            raise NotImplementedError(f"llvm emitter: call {f.id}")
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id == "np"):
            raise NotImplementedError("llvm emitter: call")
        name = f.attr
        if len(args) == 1 and (name in INT_TYPES or name in FLOAT_TYPES or name == "bool_"):
            to = "bool" if name == "bool_" else name
            return self.cast(args[0], to), to
        return self._math(name, args)

    def _abs(self, val):
        v, dt = val
        if _is_float(dt):
            return self._call_intrinsic("fabs", [v], dt), dt
        if dt == "bool":
            return self.cast(val, "int64"), "int64"
        if not _signed(dt):
            return v, dt
        b = self.b
        return b.select(b.icmp_signed("<", v, ir.Constant(v.type, 0)), b.neg(v), v), dt

    def _math(self, name, args):
        b = self.b
        if name == "isinf":
            v, dt = args[0]
            if not _is_float(dt):
                return ir.Constant(BOOL, 0), "bool"
            a = self._call_intrinsic("fabs", [v], dt)
            return b.fcmp_ordered("==", a, ir.Constant(v.type, float("inf"))), "bool"
        if name == "sign":
            return self._sign(args[0])
        # integers go through float64, as numba's ufunc loops do
        dt = args[0][1] if _is_float(args[0][1]) else "float64"
        if len(args) == 2:
            dt = _promote(dt, args[1][1]) if _is_float(args[1][1]) else dt
        vals = [self.cast(a, dt) for a in args]
        if name in ("floor", "ceil", "rint", "trunc") and not _is_float(args[0][1]):
            return args[0]
        if name in _INTRINSIC and len(vals) == 1:
            return self._call_intrinsic(_INTRINSIC[name], vals, dt), dt
        if name in _LIBM and len(vals) == 1:
            return self._libm(_LIBM[name], vals, dt), dt
        if name == "arctan2" and len(vals) == 2:
            return self._libm("atan2", vals, dt), dt
        raise NotImplementedError(f"llvm emitter: np.{name}")

    def _sign(self, val):
        v, dt = val
        b = self.b
        if _is_float(dt):
            t = v.type
            zero = ir.Constant(t, 0.0)
            pos = b.select(b.fcmp_ordered(">", v, zero), ir.Constant(t, 1.0), v)
            neg = b.select(b.fcmp_ordered("<", v, zero), ir.Constant(t, -1.0), pos)
            # zero stays (signed) zero, NaN stays NaN: numpy's sign
            return b.select(b.fcmp_ordered("==", v, zero), zero, neg), dt
        if dt == "bool":
            return v, dt
        t = v.type
        zero = ir.Constant(t, 0)
        if not _signed(dt):
            return b.zext(b.icmp_unsigned("!=", v, zero), t), dt
        gt = b.zext(b.icmp_signed(">", v, zero), t)
        lt = b.zext(b.icmp_signed("<", v, zero), t)
        return b.sub(gt, lt), dt

    def _call_intrinsic(self, name, vals, dt):
        t = llvm_type(dt)
        fn = self.module.declare_intrinsic(f"llvm.{name}", [t])
        return self.b.call(fn, vals, fastmath=FASTMATH)

    def _libm(self, name, vals, dt):
        t = llvm_type(dt)
        sym = name + ("f" if dt == "float32" else "")
        fn = self.module.globals.get(sym)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(t, [t] * len(vals)), sym)
        return self.b.call(fn, vals)
