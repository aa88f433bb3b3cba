"""Op families, one file each: elemwise, reduction, shape, indexing, blas,
nnet, conv, pool, random.  Each Op holds make_node, perform (the numpy
reference), infer_shape and its gradient; backends never live here."""
