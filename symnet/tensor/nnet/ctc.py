"""``theano.tensor.nnet.ctc``: Theano's CTC loss wraps Baidu's warp-ctc C
library, which symnet does not bind.  As on a Theano without warp-ctc,
``ctc_available()`` is False and building the loss raises RuntimeError,
so programs that check first (``if ctc_available(): ...``) take their
other path, and the others learn why at the line that builds the loss.

Examples
--------
>>> from symnet.tensor.nnet.ctc import ctc_available
>>> ctc_available()
False
"""

__all__ = ["ctc_available", "ctc_present", "ctc", "ConnectionistTemporalClassification"]

_MISSING = ("the CTC loss needs Baidu's warp-ctc library (theano.tensor.nnet.ctc), which "
            "symnet does not provide; check ctc_available() first, or write the loss with "
            "scan (the forward algorithm over the label lattice)")


def ctc_present():
    """False: symnet does not link warp-ctc."""
    return False


def ctc_available():
    """False: symnet has no warp-ctc (Theano answers False without it too)."""
    return False


class ConnectionistTemporalClassification:
    """Theano's warp-ctc op; constructing it raises RuntimeError (as
    Theano does when warp-ctc is not available)."""

    def __init__(self, compute_grad=True, openmp=None):
        raise RuntimeError(f"ConnectionistTemporalClassification: {_MISSING}")


def ctc(activations, labels, input_lengths):
    """The CTC loss of Theano's warp-ctc binding; raises RuntimeError,
    symnet having no warp-ctc."""
    raise RuntimeError(f"ctc: {_MISSING}")
