"""Tests of the modules of symnet.tensor.nnet (Theano's module paths)."""
