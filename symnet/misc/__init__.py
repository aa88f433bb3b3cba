"""``theano.misc``: helpers outside the compiler proper (:mod:`.pkl_utils`:
saving models with their parameters as ``.npy`` files in a zip)."""
