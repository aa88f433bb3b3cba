"""``theano.misc``: helpers outside the compiler proper that user scripts
import: :mod:`.pkl_utils` (saving models with their parameters as ``.npy``
files in a zip) and ``theano.misc.may_share_memory``."""
