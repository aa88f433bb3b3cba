"""The catalogue of mistakes users make, and what symnet must say to them.

Each entry is ``(name, build, exc_type, words)``: ``build(mode)`` makes the
mistake (building a graph, compiling or calling with ``mode``) and must raise
``exc_type`` with every string of ``words`` in its message (API.md "Errors":
TypeError for types/dtypes/ndims, ValueError for shapes and values, naming
the variable or layer, expected and actual).  ``RUNTIME`` entries fail inside
a compiled function: their message must also name the node and this file's
line that built it (the line ending with the entry's ``marker`` comment;
no marker where the error is the update's own check, not a node's), and
the shared variables in ``STATE`` must be unchanged after the call.
``tests/test_errors_catalogue.py`` runs every entry on py and numba.
"""
import numpy as np

import symnet
import symnet.tensor as T
from symnet import layers as L
from symnet import objectives, regularization, updates
from symnet.compile.function import MissingInputError, UnusedInputError
from symnet.gradient import DisconnectedInputError

__all__ = ["BUILD", "RUNTIME", "LASAGNE"]

f32 = np.float32
BUILD = []      # raised before any compiled code runs
RUNTIME = []    # raised while a compiled function runs: (..., marker of the node's line)
LASAGNE = []


def entry(table, exc, *words, marker=None):
    def register(fn):
        table.append((fn.__name__, fn, exc, words) + ((marker,) if table is RUNTIME else ()))
        return fn
    return register


def fn(inputs, outputs, mode, **kw):
    return symnet.function(inputs, outputs, mode=mode, **kw)


# ---------------------------------------------------------------- function()

@entry(BUILD, TypeError, "missing", "input 1 (y)", "(x, y)")
def call_too_few_inputs(mode):
    x, y = T.fvector("x"), T.fvector("y")
    fn([x, y], x + y, mode)(np.ones(3, f32))


@entry(BUILD, TypeError, "2", "3")
def call_too_many_inputs(mode):
    x, y = T.fvector("x"), T.fvector("y")
    fn([x, y], x + y, mode)(np.ones(3, f32), np.ones(3, f32), np.ones(3, f32))


@entry(BUILD, TypeError, "z", "x")
def call_unknown_keyword(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode)(z=np.ones(3, f32))


@entry(BUILD, TypeError, "x", "float32", "float64")
def call_float64_into_float32(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode)(np.ones(3))


@entry(BUILD, TypeError, "(x)", "float32", "float64", "allow_input_downcast")
def call_float64_into_float32_downcast_false(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode, allow_input_downcast=False)(np.ones(3))


@entry(BUILD, TypeError, "(x)", "int32", "float64")
def call_fractions_into_an_int_input(mode):
    x = T.ivector("x")
    fn([x], x * 2, mode, allow_input_downcast=False)(np.array([1.5, 2.0]))


@entry(BUILD, TypeError, "(x)", "dimensions", "expected 1", "got 2")
def call_wrong_ndim(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode)(np.ones((2, 3), f32))


@entry(BUILD, TypeError, "(x)", "dimensions", "expected 2", "got 1")
def call_wrong_ndim_list(mode):
    x = T.fmatrix("x")
    fn([x], x * 2, mode, allow_input_downcast=True)([1.0, 2.0])


@entry(BUILD, TypeError, "(x)", "float32", "'abc'", "str")
def call_non_numeric_string(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode, allow_input_downcast=True)("abc")


@entry(BUILD, TypeError, "x", "None")
def call_none(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode)(None)


@entry(BUILD, ValueError, "(x)", "float32", "list", "inhomogeneous")
def call_ragged_list(mode):
    x = T.fmatrix("x")
    fn([x], x * 2, mode, allow_input_downcast=True)([[1.0, 2.0], [3.0]])


@entry(BUILD, ValueError, "(x)", "(1, ?)", "(3, 2)")
def call_broadcastable_mismatch(mode):
    x = T.TensorType("float32", (True, False))("x")
    fn([x], x * 2, mode)(np.ones((3, 2), f32))


@entry(BUILD, MissingInputError, "y")
def compile_missing_input(mode):
    x, y = T.fvector("x"), T.fvector("y")
    fn([x], x + y, mode)


@entry(BUILD, UnusedInputError, "y")
def compile_unused_input(mode):
    x, y = T.fvector("x"), T.fvector("y")
    fn([x, y], x * 2, mode)


@entry(BUILD, ValueError, "on_unused_input", "'rase'")
def compile_bad_on_unused_input(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode, on_unused_input="rase")


@entry(BUILD, TypeError, "input 0", "symbolic variable", "ndarray")
def compile_input_is_array(mode):
    x = T.fvector("x")
    fn([np.ones(3, f32)], x * 2, mode)


@entry(BUILD, TypeError, "float64", "float32", "x")
def compile_givens_wrong_dtype(mode):
    x = T.fvector("x")
    y = T.dvector("y")
    fn([y], x * 2, mode, givens={x: y})


@entry(BUILD, TypeError, "x", "y", "vector", "matrix")
def compile_givens_wrong_ndim(mode):
    x = T.fvector("x")
    y = T.fmatrix("y")
    fn([y], x * 2, mode, givens={x: y})


@entry(BUILD, TypeError, "givens keys must be variables", "'x'")
def compile_givens_keyed_by_name(mode):
    y = T.fvector("y")
    fn([y], y * 2, mode, givens={"x": y})


@entry(BUILD, ValueError, "givens", "x is an input of the function")
def compile_givens_replaces_an_input(mode):
    x = T.fvector("x")
    fn([x], x * 2, mode, givens={x: T.fvector("y") + 1})


@entry(BUILD, TypeError, "w", "float32", "float64")
def compile_update_wrong_dtype(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    x = T.dvector("x")
    fn([x], [], mode, updates=[(w, w + x)])


@entry(BUILD, ValueError, "w", "(3,)", "(4,)")
def compile_update_wrong_static_shape(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    v = symnet.shared(np.zeros(4, f32), name="v")
    fn([], [], mode, updates=[(w, v * 2)])


@entry(BUILD, TypeError, "w", "broadcastable")
def compile_update_wrong_broadcastable(mode):
    w = symnet.shared(np.zeros((1, 3), f32), name="w", broadcastable=(True, False),
                      static_shape=False)
    x = T.fmatrix("x")
    fn([x], [], mode, updates=[(w, x)])


@entry(BUILD, TypeError, "x", "shared")
def compile_update_non_shared(mode):
    x = T.fvector("x")
    fn([x], [], mode, updates=[(x, x + 1)])


@entry(BUILD, ValueError, "w", "two updates")
def compile_same_shared_updated_twice(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    fn([], [], mode, updates=[(w, w + 1), (w, w + 2)])


@entry(BUILD, TypeError, "updates", "pairs", "w")
def compile_update_pair_not_in_a_list(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    fn([], [], mode, updates=(w, w + 1))


@entry(BUILD, TypeError, "w")
def compile_input_is_shared(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    fn([w], w * 2, mode)


@entry(BUILD, ValueError, "x", "twice")
def compile_same_input_twice(mode):
    x = T.fvector("x")
    fn([x, x], x * 2, mode)


@entry(BUILD, TypeError, "'x'", "tensor variable", "dtype")
def compile_output_is_python_list_of_str(mode):
    x = T.fvector("x")
    fn([x], ["x"], mode)


# ---------------------------------------------------------------- graph building

@entry(BUILD, ValueError, "(3, 4)", "(5, 2)")
def dot_static_shapes(mode):
    a = symnet.shared(np.zeros((3, 4), f32), name="a")
    b = symnet.shared(np.zeros((5, 2), f32), name="b")
    T.dot(a, b)


@entry(BUILD, ValueError, "(3,)", "(4,)")
def elemwise_static_shapes(mode):
    a = symnet.shared(np.zeros(3, f32), name="a")
    b = symnet.shared(np.zeros(4, f32), name="b")
    a + b


@entry(BUILD, ValueError, "a", "(3, 4)", "12 elements", "(2, 5)")
def reshape_static_wrong_size(mode):
    a = symnet.shared(np.zeros((3, 4), f32), name="a")
    a.reshape((2, 5))


@entry(BUILD, ValueError, "x", "(-1, -1)", "only one")
def reshape_two_minus_ones(mode):
    x = T.fmatrix("x")
    x.reshape((-1, -1))


@entry(BUILD, ValueError, "dimshuffle(0,)", "axis 1 of x", "broadcastable")
def dimshuffle_missing_dim(mode):
    x = T.fmatrix("x")
    x.dimshuffle(0)


@entry(BUILD, ValueError, "dimshuffle(0, 5)", "x", "2 dimensions")
def dimshuffle_out_of_range(mode):
    x = T.fmatrix("x")
    x.dimshuffle(0, 5)


@entry(BUILD, ValueError, "axis 1 of x", "broadcastable")
def dimshuffle_drop_non_broadcastable(mode):
    x = T.fmatrix("x")
    x.dimshuffle("x", 0)


@entry(BUILD, TypeError, "1 dims", "b has 2")
def concatenate_ndim_mismatch(mode):
    T.concatenate([T.fvector("a"), T.fmatrix("b")])


@entry(BUILD, ValueError, "a (2, 3)", "b (2, 4)", "axis 1")
def concatenate_static_mismatch(mode):
    a = symnet.shared(np.zeros((2, 3), f32), name="a")
    b = symnet.shared(np.zeros((2, 4), f32), name="b")
    T.concatenate([a, b], axis=0)


@entry(BUILD, ValueError, "(1, 3)", "(1, 4)", "axis 1")
def stack_static_mismatch(mode):
    a = symnet.shared(np.zeros(3, f32), name="a")
    b = symnet.shared(np.zeros(4, f32), name="b")
    T.stack([a, b])


@entry(BUILD, ValueError, "join", "axis 2", "1 dimensions")
def concatenate_axis_out_of_range(mode):
    T.concatenate([T.fvector("a"), T.fvector("b")], axis=2)


@entry(BUILD, TypeError, "float", "index")
def index_with_float(mode):
    x = T.fvector("x")
    x[1.5]


@entry(BUILD, TypeError, "float32", "index")
def index_with_float_variable(mode):
    x = T.fvector("x")
    x[T.fscalar("i")]


@entry(BUILD, IndexError, "7", "3")
def index_out_of_static_range(mode):
    a = symnet.shared(np.zeros(3, f32), name="a")
    a[7]


@entry(BUILD, IndexError, "too many", "1")
def too_many_indices(mode):
    x = T.fvector("x")
    x[0, 1]


@entry(BUILD, TypeError, "cost must be a scalar", "1 dimensions")
def grad_non_scalar_cost(mode):
    x = T.fvector("x")
    symnet.grad(x * 2, x)


@entry(BUILD, DisconnectedInputError, "y")
def grad_disconnected(mode):
    x, y = T.fscalar("x"), T.fscalar("y")
    symnet.grad(x * 2, y)


@entry(BUILD, ValueError, "axis 3", "stack", "2 dimensions")
def stack_axis_out_of_range(mode):
    T.stack([T.fvector("a"), T.fvector("b")], axis=3)


@entry(BUILD, TypeError, "wrt")
def grad_wrt_array(mode):
    x = T.fscalar("x")
    symnet.grad(x * 2, np.float32(1))


@entry(BUILD, ValueError, "disconnected_inputs", "'rase'")
def grad_bad_disconnected_flag(mode):
    x = T.fscalar("x")
    symnet.grad(x * 2, x, disconnected_inputs="rase")


@entry(BUILD, ValueError, "w", "(3,)", "(4,)")
def set_value_wrong_shape(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    try:
        w.set_value(np.zeros(4, f32))
    finally:
        assert w.get_value().shape == (3,)


@entry(BUILD, TypeError, "w", "expected 1", "got 2")
def set_value_wrong_ndim(mode):
    w = symnet.shared(np.zeros(3, f32), name="w", static_shape=False)
    try:
        w.set_value(np.zeros((4, 2), f32))
    finally:
        assert w.get_value().shape == (3,)


@entry(BUILD, TypeError, "w", "float32", "<U1")
def set_value_string(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    try:
        w.set_value(np.array(["a", "b", "c"]))
    finally:
        assert w.get_value().dtype == np.float32


@entry(BUILD, ValueError, "axis", "2")
def sum_axis_out_of_range(mode):
    T.fmatrix("x").sum(axis=2)


@entry(BUILD, ValueError, "axis", "-3")
def max_axis_negative_out_of_range(mode):
    T.fmatrix("x").max(axis=-3)


@entry(BUILD, TypeError, "axis must be", "'a'", "x")
def mean_over_a_named_axis(mode):
    T.fmatrix("x").mean(axis="a")


@entry(BUILD, TypeError, "float33")
def cast_unknown_dtype(mode):
    T.cast(T.fvector("x"), "float33")


@entry(BUILD, TypeError, "4-D", "2-D x")
def conv2d_on_matrix(mode):
    T.nnet.conv2d(T.fmatrix("x"), T.ftensor4("w"))


@entry(BUILD, ValueError, "img has 2 channels", "(2, 2, 8, 8)", "w expect 3", "(4, 3, 3, 3)")
def conv2d_channel_mismatch(mode):
    x = symnet.shared(np.zeros((2, 2, 8, 8), f32), name="img")
    w = symnet.shared(np.zeros((4, 3, 3, 3), f32), name="w")
    T.nnet.conv2d(x, w)


@entry(BUILD, ValueError, "window ws must be positive", "(0, 2)")
def pool_bad_window(mode):
    T.signal.pool.pool_2d(T.ftensor4("x"), ws=(0, 2), ignore_border=True)


@entry(BUILD, ValueError, "mode", "'mean'")
def pool_bad_mode(mode):
    T.signal.pool.pool_2d(T.ftensor4("x"), ws=(2, 2), ignore_border=True, mode="mean")


@entry(BUILD, TypeError, "function inputs must be a list", "TensorVariable")
def compile_inputs_not_a_list(mode):
    x = T.fvector("x")
    fn(x, x * 2, mode)


@entry(BUILD, TypeError, "y has 3 dims", "2", "x")
def set_subtensor_value_of_higher_ndim(mode):
    T.set_subtensor(T.fmatrix("x")[:2], T.ftensor3("y"))


@entry(BUILD, TypeError, "pool_2d", "x with 1")
def pool_on_a_vector(mode):
    T.signal.pool.pool_2d(T.fvector("x"), ws=(2, 2), ignore_border=True)


@entry(BUILD, ValueError, "border_mode", "'sam'")
def conv2d_bad_border_mode(mode):
    T.nnet.conv2d(T.ftensor4("x"), T.ftensor4("w"), border_mode="sam")


@entry(BUILD, ValueError, "axis 2", "x with 2 dimensions")
def argmax_axis_out_of_range(mode):
    T.argmax(T.fmatrix("x"), axis=2)


@entry(BUILD, TypeError, "'abc'", "tensor variable")
def add_a_string(mode):
    T.fvector("x") + "abc"


@entry(BUILD, TypeError, "shared()", "NoneType")
def shared_of_none(mode):
    symnet.shared(None)


# ---------------------------------------------------------------- run time

STATE = {}


def _state():
    w = symnet.shared(np.arange(3, dtype=f32), name="w")
    c = symnet.shared(np.float32(5), name="counter")
    STATE["shared"] = [w, c]
    STATE["before"] = [w.get_value().copy(), c.get_value().copy()]
    return w, c


@entry(RUNTIME, ValueError, "(2, 3)", "(4, 5)", marker="#dot")
def run_dot_shapes(mode):
    w, c = _state()
    x, y = T.fmatrix("x"), T.fmatrix("y")
    out = T.dot(x, y)  #dot
    f = fn([x, y], out, mode, updates=[(c, c + 1)])
    f(np.ones((2, 3), f32), np.ones((4, 5), f32))


@entry(RUNTIME, ValueError, "(3,)", "(4,)", marker="#elemwise")
def run_elemwise_shapes(mode):
    w, c = _state()
    x, y = T.fvector("x"), T.fvector("y")
    out = T.exp(x) + y  #elemwise
    f = fn([x, y], out, mode, updates=[(c, c + 1)])
    f(np.ones(3, f32), np.ones(4, f32))


@entry(RUNTIME, ValueError, "6", "(4, 2)", marker="#reshape")
def run_reshape_size(mode):
    w, c = _state()
    x = T.fmatrix("x")
    out = x.reshape((4, 2))  #reshape
    f = fn([x], out, mode, updates=[(c, c + 1)])
    f(np.ones((2, 3), f32))


@entry(RUNTIME, ValueError, "(1, 1, 2, 2)", "(1, 1, 3, 3)", marker="#conv")
def run_conv_image_smaller_than_filter(mode):
    w, c = _state()
    x, k = T.ftensor4("x"), T.ftensor4("k")
    out = T.nnet.conv2d(x, k)  #conv
    f = fn([x, k], out, mode, updates=[(c, c + 1)])
    f(np.ones((1, 1, 2, 2), f32), np.ones((1, 1, 3, 3), f32))


@entry(RUNTIME, IndexError, "5", "3", marker="#index")
def run_index_out_of_range(mode):
    w, c = _state()
    x, i = T.fvector("x"), T.iscalar("i")
    out = x[i] * 2  #index
    f = fn([x, i], out, mode, updates=[(c, c + 1)])
    f(np.ones(3, f32), 5)


@entry(RUNTIME, IndexError, "9", "3", marker="#advindex")
def run_advanced_index_out_of_range(mode):
    w, c = _state()
    x, i = T.fvector("x"), T.ivector("i")
    out = x[i]  #advindex
    f = fn([x, i], out, mode, updates=[(c, c + 1)])
    f(np.ones(3, f32), np.array([0, 9], "int32"))


@entry(RUNTIME, ValueError, "(3,)", "(4,)", marker="#upd")
def run_update_shape_mismatch(mode):
    w, c = _state()
    x = T.fvector("x")
    new_w = w * x  #upd
    f = fn([x], [], mode, updates=[(c, c + 1), (w, new_w)])
    f(np.ones(4, f32))


@entry(RUNTIME, ValueError, "w", "(3,)", "(4,)")
def run_update_changes_static_shape(mode):
    w, c = _state()
    x = T.fvector("x")
    f = fn([x], [], mode, updates=[(c, c + 1), (w, x)])
    f(np.ones(4, f32))


@entry(RUNTIME, ValueError, "(3,3)", "(2,3)", "(4, 3), (3, 3)", marker="#setsub")
def run_set_subtensor_shape(mode):
    w, c = _state()
    x, y = T.fmatrix("x"), T.fmatrix("y")
    out = T.set_subtensor(x[:2], y)  #setsub
    f = fn([x, y], out, mode, updates=[(c, c + 1)])
    f(np.ones((4, 3), f32), np.ones((3, 3), f32))


@entry(RUNTIME, ValueError, "(2, 3, 4), (2, 3, 5)", marker="#bdot")
def run_batched_dot_shapes(mode):
    w, c = _state()
    x, y = T.ftensor3("x"), T.ftensor3("y")
    out = T.batched_dot(x, y)  #bdot
    f = fn([x, y], out, mode, updates=[(c, c + 1)])
    f(np.ones((2, 3, 4), f32), np.ones((2, 3, 5), f32))


@entry(RUNTIME, ValueError, "(2, 3)", "(2, 4)", marker="#concat")
def run_concatenate_shapes(mode):
    w, c = _state()
    x, y = T.fmatrix("x"), T.fmatrix("y")
    out = T.concatenate([x, y], axis=0)  #concat
    f = fn([x, y], out, mode, updates=[(c, c + 1)])
    f(np.ones((2, 3), f32), np.ones((2, 4), f32))


@entry(RUNTIME, ValueError, "2 channels", "expect 3", "(2, 2, 8, 8)", marker="#convch")
def run_conv_channel_mismatch(mode):
    w, c = _state()
    x = T.ftensor4("x")
    k = symnet.shared(np.zeros((4, 3, 3, 3), f32), name="k")
    out = T.nnet.conv2d(x, k, input_shape=(2, 2, 8, 8))  #convch
    f = fn([x], out, mode, updates=[(c, c + 1)])
    f(np.ones((2, 2, 8, 8), f32))


@entry(RUNTIME, IndexError, "index 7", "size 3", marker="#tail")
def run_update_fails_after_an_update_written_in_place(mode):
    w, c = _state()
    x, i = T.fvector("x"), T.iscalar("i")
    late = c + x[i]  #tail
    f = fn([x, i], [], mode, updates=[(w, w * 2), (c, late)])
    f(np.ones(3, f32), 7)


@entry(RUNTIME, ValueError, "(3, 4)", "(3, 5)", marker="#objective")
def run_objective_shapes(mode):
    w, c = _state()
    p, t = T.fmatrix("p"), T.fmatrix("t")
    loss = objectives.squared_error(p, t).mean()  #objective
    f = fn([p, t], loss, mode, updates=[(c, c + loss)])
    f(np.ones((3, 4), f32), np.ones((3, 5), f32))


@entry(RUNTIME, FloatingPointError, "NaN", "log(x)", marker="#nan")
def run_nan_guard(mode):
    from symnet.compile.nanguardmode import NanGuardMode
    w, c = _state()
    x = T.fvector("x")
    out = T.log(x) * 2  #nan
    f = symnet.function([x], out, updates=[(w, w + 1), (c, c + 1)],
                        mode=NanGuardMode(True, True, False, linker=mode))
    f(np.array([-1, 1, 2], f32))


@entry(RUNTIME, ValueError, "(3,)", "(4,)", marker="#second")
def run_second_update_fails(mode):
    w, c = _state()
    x = T.fvector("x")
    second = (w + x).sum()  #second
    f = fn([x], [], mode, updates=[(w, w * 2), (c, c + second)])
    f(np.ones(4, f32))


# ---------------------------------------------------------------- Lasagne

@entry(RUNTIME, ValueError, "Dot(input.input, W)", "(2, 5)", "(4, 3)", marker="#lasagne")
def input_layer_shape_vs_data(mode):
    w, c = _state()
    l_in = L.InputLayer((None, 4), name="input")
    out = L.get_output(L.DenseLayer(l_in, 3))  #lasagne
    symnet.function([l_in.input_var], out, mode=mode,
                    updates=[(c, c + 1)])(np.ones((2, 5), f32))


@entry(LASAGNE, ValueError, "dense", "None")
def dense_on_unknown_size(mode):
    L.DenseLayer(L.InputLayer((None, None)), 3, name="dense")


@entry(LASAGNE, TypeError, "Conv2DLayer 'conv'", "(None, 10)", "Expected 4")
def conv2d_layer_on_2d_input(mode):
    L.Conv2DLayer(L.InputLayer((None, 10)), 3, 3, name="conv")


@entry(LASAGNE, TypeError, "DenseLayer 'dense'", "must be a Layer", "ndarray")
def layer_given_an_array(mode):
    L.DenseLayer(np.ones((2, 3), f32), 3, name="dense")


@entry(LASAGNE, TypeError, "DenseLayer 'dense'", "must be a Layer", "str 'input'")
def layer_given_a_string(mode):
    L.DenseLayer("input", 3, name="dense")


@entry(LASAGNE, TypeError, "InputLayer", "(None, 3, 4)", "x has 2")
def input_layer_var_of_wrong_ndim(mode):
    L.InputLayer((None, 3, 4), input_var=T.fmatrix("x"))


@entry(LASAGNE, ValueError, "non-positive", "(None, 0)")
def input_layer_zero_size(mode):
    L.DenseLayer(L.InputLayer((None, 0)), 3)


@entry(LASAGNE, TypeError, "str", "not a symbolic expression")
def get_output_with_a_string(mode):
    l_in = L.InputLayer((None, 4), name="input")
    L.get_output(L.DenseLayer(l_in, 3), inputs="x")


@entry(LASAGNE, ValueError, "2", "3")
def set_all_param_values_wrong_count(mode):
    net = L.DenseLayer(L.InputLayer((None, 4)), 3)
    before = [p.get_value().copy() for p in L.get_all_params(net)]
    try:
        L.set_all_param_values(net, [np.zeros((4, 3), f32), np.zeros(3, f32),
                                     np.zeros(3, f32)])
    finally:
        for p, b in zip(L.get_all_params(net), before):
            np.testing.assert_array_equal(p.get_value(), b)


@entry(LASAGNE, ValueError, "(4, 3)", "(3, 4)")
def set_all_param_values_wrong_shape(mode):
    net = L.DenseLayer(L.InputLayer((None, 4)), 3)
    before = [p.get_value().copy() for p in L.get_all_params(net)]
    try:
        L.set_all_param_values(net, [np.zeros((3, 4), f32), np.zeros(3, f32)])
    finally:
        for p, b in zip(L.get_all_params(net), before):
            np.testing.assert_array_equal(p.get_value(), b)


@entry(LASAGNE, ValueError, "(3, 4)", "(3, 5)")
def squared_error_static_mismatch(mode):
    a = symnet.shared(np.zeros((3, 4), f32), name="pred")
    b = symnet.shared(np.zeros((3, 5), f32), name="target")
    objectives.squared_error(a, b)


@entry(LASAGNE, TypeError, "true_dist t", "coding_dist p (2)", "got 3")
def categorical_crossentropy_bad_target_ndim(mode):
    objectives.categorical_crossentropy(T.fmatrix("p"), T.ftensor3("t"))


@entry(LASAGNE, TypeError, "shared variables only", "x (TensorVariable)")
def sgd_params_not_shared(mode):
    x = T.fvector("x")
    updates.sgd((x ** 2).sum(), [x], learning_rate=0.1)


@entry(LASAGNE, TypeError, "scalar", "1")
def adam_non_scalar_loss(mode):
    w = symnet.shared(np.zeros(3, f32), name="w")
    updates.adam(w * 2, [w])


@entry(LASAGNE, TypeError, "dict", "got list", "regularize_layer_params")
def regularize_a_layer_list_with_wrong_call(mode):
    net = L.DenseLayer(L.InputLayer((None, 4)), 3)
    regularization.regularize_layer_params_weighted([net], regularization.l2)


@entry(LASAGNE, ValueError, "concat", "(None, 3, 5)", "(None, 4, 6)")
def concat_layer_mismatch(mode):
    a = L.InputLayer((None, 3, 5))
    b = L.InputLayer((None, 4, 6))
    L.ConcatLayer([a, b], axis=1, name="concat")


@entry(LASAGNE, ValueError, "sum", "(None, 3)", "(None, 4)")
def elemwise_sum_layer_mismatch(mode):
    a = L.InputLayer((None, 3))
    b = L.InputLayer((None, 4))
    L.ElemwiseSumLayer([a, b], name="sum")


@entry(LASAGNE, ValueError, "merge", "(None, 3)", "(None, 4)")
def elemwise_merge_layer_mismatch(mode):
    a = L.InputLayer((None, 3))
    b = L.InputLayer((None, 4))
    L.ElemwiseMergeLayer([a, b], T.mul, name="merge")


@entry(LASAGNE, ValueError, "reshape", "12", "10")
def reshape_layer_wrong_size(mode):
    L.ReshapeLayer(L.InputLayer((None, 3, 4)), ([0], 10), name="reshape")


@entry(LASAGNE, TypeError, "DenseLayer 'dense'", "num_units must be an int", "str '3'")
def dense_num_units_string(mode):
    L.DenseLayer(L.InputLayer((None, 4)), "3", name="dense")


@entry(LASAGNE, ValueError, "dense", "W", "(4, 3)", "(3, 4)")
def dense_W_wrong_shape(mode):
    L.DenseLayer(L.InputLayer((None, 4)), 3, W=np.zeros((3, 4), f32), name="dense")


@entry(LASAGNE, ValueError, "drop", "p", "1.5")
def dropout_p_out_of_range(mode):
    L.DropoutLayer(L.InputLayer((None, 4)), p=1.5, name="drop")


@entry(LASAGNE, UserWarning, "get_output", "determinstic", "perhaps you meant deterministic")
def get_output_misspelt_keyword(mode):
    l_in = L.InputLayer((None, 4))
    L.get_output(L.DenseLayer(l_in, 3), determinstic=True)


@entry(LASAGNE, ValueError, "MaxPool2DLayer 'pool'", "(size 3)", "(None, 1, 2, 2)")
def pool_layer_window_larger_than_input(mode):
    L.MaxPool2DLayer(L.InputLayer((None, 1, 2, 2)), pool_size=3, name="pool")


@entry(LASAGNE, ValueError, "Conv2DLayer 'conv'", "(size 5)", "(size 2")
def conv_layer_filter_larger_than_input(mode):
    L.Conv2DLayer(L.InputLayer((None, 1, 2, 2)), 3, 5, name="conv")


@entry(LASAGNE, TypeError, "DenseLayer 'dense'", "nonlinearity must be callable", "'relu'")
def dense_nonlinearity_as_a_string(mode):
    L.DenseLayer(L.InputLayer((None, 3)), 2, nonlinearity="relu", name="dense")


@entry(LASAGNE, TypeError, "NonlinearityLayer 'nl'", "nonlinearity must be callable", "'tanh'")
def nonlinearity_layer_with_a_string(mode):
    L.NonlinearityLayer(L.InputLayer((None, 3)), nonlinearity="tanh", name="nl")


@entry(LASAGNE, TypeError, "Conv2DLayer 'conv'", "nonlinearity must be callable")
def conv_nonlinearity_as_a_string(mode):
    L.Conv2DLayer(L.InputLayer((None, 1, 5, 5)), 2, 3, nonlinearity="relu", name="conv")


@entry(LASAGNE, TypeError, "index", "float32", "integers")
def embedding_of_float_input(mode):
    L.get_output(L.EmbeddingLayer(L.InputLayer((None, 3)), 10, 4, name="emb"))


@entry(LASAGNE, TypeError, "keys", "Layer", "str 'x'")
def get_output_dict_keyed_by_name(mode):
    L.get_output(L.DenseLayer(L.InputLayer((None, 3)), 2), {"x": T.fmatrix()})


@entry(LASAGNE, ValueError, "DimshuffleLayer 'ds'", "dimension 2", "(None, 3)")
def dimshuffle_layer_bad_pattern(mode):
    L.DimshuffleLayer(L.InputLayer((None, 3)), (0, 1, 2), name="ds")


@entry(LASAGNE, ValueError, "LSTMLayer", "(None, 3)")
def lstm_on_2d_input(mode):
    L.LSTMLayer(L.InputLayer((None, 3)), 4, name="lstm")


@entry(LASAGNE, ValueError, "(3, 1)", "(4, 1)", "t")
def binary_crossentropy_static_mismatch(mode):
    p = symnet.shared(np.full((3, 1), 0.5, f32), name="p")
    t = symnet.shared(np.zeros((4, 1), f32), name="t")
    objectives.binary_crossentropy(p, t)


@entry(LASAGNE, TypeError, "labels t", "integer", "float32")
def categorical_crossentropy_float_labels(mode):
    objectives.categorical_crossentropy(T.fmatrix("p"), T.fvector("t"))
