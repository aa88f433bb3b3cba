"""``theano.tensor.extra_ops`` names."""
from .ops.indexing import cumsum, cumprod  # noqa: F401
from .ops.shape import repeat  # noqa: F401
