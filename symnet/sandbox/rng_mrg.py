"""``theano.sandbox.rng_mrg``: ``MRG_RandomStreams``.

symnet has one random-stream implementation
(:class:`symnet.tensor.shared_randomstreams.RandomStreams`); this class is
it under Theano's MRG name, with the MRG default seed (12345).  The
``nstreams`` argument of the draw methods is accepted and ignored: every
draw has its own counter-based state, so there is nothing to split.  The
numbers differ from Theano's MRG31k3p generator, the statistics do not.

Examples
--------
>>> import symnet
>>> srng = MRG_RandomStreams(seed=1)
>>> mask = srng.binomial((1000,), p=0.8, dtype='float32')
>>> m = symnet.function([], mask, mode='py')()
>>> m.dtype, bool(0.7 < m.mean() < 0.9)
(dtype('float32'), True)
"""
from ..tensor.shared_randomstreams import RandomStreams

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(RandomStreams):
    """:class:`~symnet.tensor.shared_randomstreams.RandomStreams` with
    Theano's MRG default seed.

    Parameters
    ----------
    seed : int
        Seed of the stream (default 12345, as in Theano).
    """

    def __init__(self, seed=12345):
        super().__init__(seed)

    def binomial(self, size=None, p=0.5, ndim=None, dtype="int64", nstreams=None, n=1,
                 **kwargs):
        """Bernoulli (``n=1``) samples with success probability ``p``.

        MRG's signature: ``p`` is the second positional argument (there is
        no ``n`` before it as in ``RandomStreams.binomial``).

        Returns
        -------
        symbolic tensor of ``dtype`` (default int64)
        """
        return RandomStreams.binomial(self, size, n=n, p=p, ndim=ndim, dtype=dtype)
