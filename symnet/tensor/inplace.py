"""``theano.tensor.inplace``: the ``<op>_inplace`` elementwise functions.

In Theano these overwrite their first input. symnet never overwrites a
variable a user built: each ``<op>_inplace`` here is ``<op>`` itself (same
values, dtypes and gradients), and the in-place rewrite decides, when a
function is compiled, which intermediate buffers may be reused. So the
values a compiled function returns are Theano's; only the input arrays are
left untouched.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> from symnet.tensor import inplace
>>> x = T.dvector('x')
>>> a = np.array([0., 1.])
>>> symnet.function([x], inplace.exp_inplace(x), mode='py')(a).tolist(), a.tolist()
([1.0, 2.718281828459045], [0.0, 1.0])
"""
from .. import tensor as _T

# The elementwise functions of symnet.tensor that Theano also has in-place.
_NAMES = ("add sub mul true_div int_div mod pow maximum minimum arctan2 eq neq lt le gt ge "
          "and_ or_ xor invert neg abs_ sgn exp exp2 expm1 log log2 log10 log1p sqrt sqr inv "
          "tanh sinh cosh sin cos tan arcsin arccos arctan arcsinh arccosh arctanh floor ceil "
          "trunc round_half_to_even round_half_away_from_zero clip switch second fill "
          "sigmoid erf erfc erfcx gamma gammaln psi tri_gamma deg2rad rad2deg conj").split()

__all__ = [n + "_inplace" for n in _NAMES] + ["transpose_inplace"]

globals().update({n + "_inplace": getattr(_T, n) for n in _NAMES})
# Theano's scipy-only functions: in-place names that raise as T's do
from .special import UNSUPPORTED as _UNSUPPORTED  # noqa: E402
globals().update({n + "_inplace": getattr(_T, n) for n in _UNSUPPORTED})
__all__ += [n + "_inplace" for n in _UNSUPPORTED]


def transpose_inplace(x):
    """``x.T`` (a view, as every symnet transpose is)."""
    return _T.transpose(x)
