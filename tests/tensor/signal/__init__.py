"""Tests of the modules of symnet.tensor.signal."""
