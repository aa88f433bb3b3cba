"""The shared scalar expression table: every rule evaluated (as the numpy
spelling writes it) against numpy itself, including the NaN and integer
rules every backend must keep."""
import numpy as np
import pytest

from symnet.backend.scalar import SCALAR, Spelling, cast_expr, expression


def _eval(name, values, out_dtype, spelling=None):
    names = [f"a{k}" for k in range(len(values))]
    dts = [np.asarray(v).dtype.name for v in values]
    src = expression(name, names, dts, out_dtype, spelling or Spelling())
    return eval(src, {"np": np}, dict(zip(names, values)))


@pytest.mark.parametrize("name, args, out, want", [
    ("maximum", (np.float64(np.nan), np.float64(1.0)), "float64", np.nan),
    ("maximum", (np.float64(1.0), np.float64(np.nan)), "float64", np.nan),
    ("minimum", (np.float64(2.0), np.float64(-1.0)), "float64", -1.0),
    ("clip", (np.float64(5.0), np.float64(0.0), np.float64(1.0)), "float64", 1.0),
    ("clip", (np.float64(np.nan), np.float64(0.0), np.float64(1.0)), "float64", np.nan),
    ("true_div", (np.int64(7), np.int64(2)), "float64", 3.5),
    ("int_div", (np.int64(-7), np.int64(2)), "int64", -4),
    ("int_div", (np.int64(-7), np.int64(-1)), "int64", 7),
    ("int_div", (np.int64(np.iinfo(np.int64).min), np.int64(-1)), "int64",
     np.iinfo(np.int64).min),                            # wraps, as numpy's does
    ("sgn", (np.uint8(200),), "uint8", 1),
    ("sgn", (np.uint64(0),), "uint64", 0),
    ("pow", (np.int64(2), np.int64(10)), "int64", 1024),
    ("switch", (True, np.float32(1.0), np.float32(2.0)), "float32", 1.0),
    ("round", (np.float64(2.5),), "float64", 2.0),       # numpy rounds half to even
    ("round", (np.int64(3),), "int64", 3),
    ("sgn", (np.float64(-3.0),), "float64", -1.0),
    ("invert", (True,), "bool", False),
    ("isnan", (np.float64(np.nan),), "bool", True),
    ("softplus", (np.float64(800.0),), "float64", 800.0),  # no overflow
    ("softplus", (np.float64(-3.0),), "float64", np.log1p(np.exp(-3.0))),
    ("sigmoid", (np.float64(0.0),), "float64", 0.5),
    ("log1p", (np.float64(1e-20),), "float64", 1e-20),
])
def test_rules_agree_with_numpy(name, args, out, want):
    with np.errstate(all="ignore"):
        got = _eval(name, args, out)
    assert np.asarray(got).dtype == np.dtype(out)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_every_rule_writes_source_that_runs():
    bad = []
    for name in SCALAR:
        nin = 3 if name in ("switch", "clip") else 2 if name in (
            "add", "sub", "mul", "true_div", "int_div", "mod", "pow", "maximum", "minimum",
            "arctan2", "eq", "neq", "lt", "le", "gt", "ge", "and_", "or_", "xor",
            "second") else 1
        dtype = "bool" if name in ("and_", "or_", "xor", "invert") else "float64"
        vals = [np.bool_(True) if dtype == "bool" else np.float64(0.5)] * nin
        try:
            with np.errstate(all="ignore"):
                _eval(name, vals, dtype)
        except Exception as exc:  # collected so one run names every broken rule
            bad.append(f"{name}: {exc}")
    assert not bad, bad


def test_unknown_op_and_override():
    with pytest.raises(NotImplementedError, match="no_such_op"):
        expression("no_such_op", ["x"], ["float64"], "float64", Spelling())

    class Fast(Spelling):
        def override(self, name, args, in_dtypes, out_dtype):
            return f"fast_{name}({args[0]})" if name == "exp" else None
    assert expression("exp", ["x"], ["float32"], "float32", Fast()) == \
        "np.float32(fast_exp(x))"
    assert expression("log", ["x"], ["float32"], "float32", Fast()) == \
        "np.float32(np.log(x))"
    assert cast_expr("x", "bool") == "(x != 0)"


def test_a_backend_changes_function_spelling_only():
    class MathModule(Spelling):      # how a CUDA emitter would write calls
        module = "math"

        def cast(self, expr, dtype):
            return expr
    src = expression("softplus", ["x"], ["float64"], "float64", MathModule())
    assert "math.log1p(math.exp(-x))" in src and "np." not in src
