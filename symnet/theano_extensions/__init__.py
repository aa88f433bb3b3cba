"""Lasagne's ``lasagne.theano_extensions``: 1-d convolutions and padding.

These are tensor functions (not layers) that Lasagne's layers build on and
that Lasagne code sometimes calls directly: :mod:`.conv` has the 1-d
convolutions ``conv1d_sc``, ``conv1d_mc0``, ``conv1d_mc1``,
``conv1d_unstrided``, ``conv1d_sd`` and ``conv1d_md``; :mod:`.padding`
has ``pad``.
"""
from . import conv, padding

__all__ = ["conv", "padding"]
