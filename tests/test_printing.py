"""debugprint, pp and pydotprint."""
import io
import sys

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.printing import (debugprint, min_informative_str, pp, pydotprint, theano_name,
                             theano_str)


def test_debugprint_tree_ids_and_shared():
    w = symnet.shared(np.ones(3), name="w")
    x = T.dvector("x")
    a = T.exp(x * w)
    out = debugprint([a + a], file="str")
    lines = out.splitlines()
    assert lines[0] == "Elemwise{add,no_inplace} [id A] ''   "   # Theano's layout
    assert sum("Elemwise{exp,no_inplace} [id B]" in ln for ln in lines) == 2  # twice...
    assert sum(ln.strip(" |").startswith("Elemwise{mul") for ln in lines) == 1  # ...once below
    # Theano's margins: ' |' below an input with later siblings, '  ' below the last;
    # a shared variable prints as its name, as in Theano
    assert lines[3:5] == [" |   |x [id D]", " |   |w [id E]"]


def test_debugprint_options():
    x = T.dmatrix("x")
    y = T.sum(x, axis=0)
    y.name = "colsum"
    assert "<TensorType(float64, vector)>" in debugprint(y, file="str", print_type=True)
    # static sizes (a shared variable's, a row's) print as Theano's types did
    w = symnet.shared(np.ones((3, 2)), name="w")
    r = T.row("r", dtype="float32")
    lines = debugprint(T.dot(r, w.T.astype("float32")), file="str",
                       print_type=True).splitlines()
    assert "(3, 2)" not in "".join(lines) and w.type.shape == (3, 2)
    assert lines[0].startswith("dot [id A] <TensorType(float32, row)> ''")
    assert lines[1].strip() == "|r [id B] <TensorType(float32, row)>"
    assert "|w [id E] <TensorType(float64, matrix)>" in lines[-1]
    assert "'colsum'" in debugprint(y, file="str")
    assert "[id A]" in debugprint(y, file="str", ids="CHAR")
    assert "[id" not in debugprint(y, file="str", ids="")
    assert len(debugprint(T.exp(T.exp(x)), file="str", depth=1).splitlines()) == 2
    buf = io.StringIO()
    assert debugprint(y, file=buf) is buf and "Sum" in buf.getvalue()
    with pytest.raises(TypeError):
        debugprint(42)
    with pytest.raises(ValueError):
        debugprint(y, file="str", ids="bogus")


def test_debugprint_stdout(capsys):
    x = T.dscalar("x")
    assert debugprint(x + 1) is None  # so a prompt shows only the tree
    assert capsys.readouterr().out.startswith("Elemwise{add,no_inplace} [id A]")
    assert symnet.printing.pprint(x + 1) == pp(x + 1) == "(x + TensorConstant{1})"


def test_debugprint_function_prints_fgraph():
    x = T.dvector("x")
    f = symnet.function([x], [T.exp(x), x * 2], mode="py")
    text = debugprint(f, file="str")
    # a function's nodes end with their position in its order, as in Theano
    assert text.splitlines() == ["Elemwise{exp,no_inplace} [id A] ''   0", " |x [id B]",
                                 "Elemwise{mul,no_inplace} [id C] ''   1", " |x [id B]",
                                 " |TensorConstant{(1,) of 2.0} [id D]"]
    assert text.replace("   0\n", "   \n").replace("   1\n", "   \n") == \
        debugprint(f.fgraph.outputs, file="str")


def test_debugprint_deep_graph_is_linear():
    x = T.dscalar("x")
    y = x
    for _ in range(20000):
        y = y + 1
    text = debugprint(y, file="str")
    assert text.count("\n") == 2 * 20000 + 1 and len(text) < 200 * 40001
    assert pp(y).count("+") == 20000
    assert sys.getrecursionlimit() < 20000


def test_debugprint_theano_layout_ids_and_stop_on_name():
    # Theano's own test_printing.test_debugprint, line for line
    A, B, D, E = T.matrices("A", "B", "D", "E")
    C = A + B
    C.name = "C"
    G = C + (D + E)
    assert debugprint(G, file="str", ids="int").splitlines() == [
        "Elemwise{add,no_inplace} [id 0] ''   ",
        " |Elemwise{add,no_inplace} [id 1] 'C'   ",
        " | |A [id 2]", " | |B [id 3]",
        " |Elemwise{add,no_inplace} [id 4] ''   ",
        "   |D [id 5]", "   |E [id 6]"]
    assert debugprint(G, file="str", ids="CHAR", stop_on_name=True).splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " |Elemwise{add,no_inplace} [id C] ''   ",
        "   |D [id D]", "   |E [id E]"]
    assert debugprint(G, file="str", ids="").splitlines()[:3] == [
        "Elemwise{add,no_inplace}  ''   ", " |Elemwise{add,no_inplace}  'C'   ", " | |A "]
    assert min_informative_str(G) == ("A. Elemwise{add,no_inplace}\n B. C\n"
                                      " C. Elemwise{add,no_inplace}\n  D. D\n  E. E")


def test_theano_ids_names_and_constants():
    from symnet.printing import _letters
    assert [_letters(n) for n in (0, 25, 26, 27, 52)] == ["A", "Z", "BA", "BB", "CA"]
    x = T.dmatrix("x")
    assert theano_name(x.sum().owner.op, x.sum().owner) == "Sum{acc_dtype=float64}"
    assert theano_name(x.dimshuffle(1, "x", 0).owner.op) == "InplaceDimShuffle{1,x,0}"
    assert (x + 1).owner.op.short_name() == "add"    # symnet's own name, used by its errors
    assert theano_str(T.constant(2)) == "TensorConstant{2}"
    assert theano_str(T.constant(np.full((2, 3), 0.5))) == "TensorConstant{(2, 3) of 0.5}"
    assert theano_str(T.constant(np.arange(3))) == "TensorConstant{[0 1 2]}"
    assert theano_str(T.constant(np.arange(30))) == "TensorConstant{[ 0  1  2 .. 27 28 29]}"
    assert pp(T.gt(1.0 / (1.0 + T.exp(-T.dot(x, x))), 0.5)) == (
        "gt((TensorConstant{1.0} / (TensorConstant{1.0} + exp((-(x \\dot x))))), "
        "TensorConstant{0.5})")


def test_str_of_ops_and_variables_is_theanos():
    # what users print (scan.txt's print(a + 1), a MonitorMode hook's
    # print(node.op, node.inputs)) reads as in Theano's docs
    x = T.dmatrix("x")
    y = x * 2
    assert str(y.owner.op) == y.owner.op.name == "Elemwise{mul,no_inplace}"
    assert str(y) == "Elemwise{mul,no_inplace}.0"
    assert str(y.owner.inputs) == "[x, InplaceDimShuffle{x,x}.0]"
    w = symnet.shared(np.ones((3, 1)))
    assert str((w + 1).owner) == \
        "Elemwise{add,no_inplace}(<TensorType(float64, col)>, InplaceDimShuffle{x,x}.0)"
    assert str(x.dimshuffle(1, 0).owner.op) == "InplaceDimShuffle{1,0}"
    assert str(T.dot(x, x).owner.op) == "dot"
    assert str(T.nnet.softmax(x).owner.op) == "Softmax"
    # an op Theano had no other name for keeps symnet's
    assert str(T.concatenate([x, x]).owner.op) == "Join{axis=0}"
    # symnet's messages keep the short names
    assert y.owner.short() == "mul(x, DimShuffle{new_order=('x', 'x')}.0)"
    f = symnet.function([x], x + x.T, mode="py")
    # x.T is named x.T (Theano names the transpose of a named variable)
    with pytest.raises(ValueError, match=r"while running node add\(x, x\.T\)"):
        f(np.ones((2, 3)))


def test_a_python_int_prints_as_written_whatever_dtype_it_took():
    # Theano's printing_drawing.txt: 1 / (1 + exp(...)) shows TensorConstant{1}
    x = T.dmatrix("x")
    y = 1 / (1 + T.exp(-x))
    assert y.dtype == "float64" and y.owner.inputs[0].owner.inputs[0].dtype == "float64"
    assert pp(y) == "(TensorConstant{1} / (TensorConstant{1} + exp((-x))))"
    assert pp(x * 2.0) == "(x * TensorConstant{2.0})"
    assert pp(x + np.float64(3)) == "(x + TensorConstant{3.0})"
    # in a compiled function it is the float Theano's rewrites made of it
    # (debug_faq.txt's MonitorMode prints TensorConstant{5.0})
    s = T.dscalar("s")
    f = symnet.function([s], 5 * s, mode="py")
    assert repr((5 * s).owner) == "Elemwise{mul,no_inplace}(TensorConstant{5}, s)"
    assert repr(f.fgraph.toposort()) == "[Elemwise{mul,no_inplace}(TensorConstant{5.0}, s)]"
    assert "TensorConstant{5.0} [id B]" in debugprint(f, file="str")
    assert "TensorConstant{5} [id B]" in debugprint(5 * s, file="str")


def test_pp_subtensor_as_theano():
    x = T.dvector()
    assert pp(x[1]) == "<TensorType(float64, vector)>[Constant{1}]"   # Theano's test
    m, i = T.dmatrix("m"), T.iscalar("i")
    assert pp(m[i:, ::2]) == "m[i:, ::Constant{2}]"
    assert pp(m[1:i:-1, 0]) == "m[Constant{1}:i:Constant{-1}, Constant{0}]"


def test_pp():
    x, y = T.dscalars("x", "y")
    assert pp(x + 2.0 * y) == "(x + (TensorConstant{2.0} * y))"
    assert pp(T.exp(-x) / y) == "(exp((-x)) / y)"
    m = T.dmatrix("m")
    assert pp(m.T) == "m.T"
    assert pp(T.dot(m, m)) == "(m \\dot m)"
    assert pp(T.gt(x, y)) == "gt(x, y)"    # Theano: comparisons are calls
    z = x * y
    z.name = "z"
    assert pp(T.log(z) + z) == "(log(z) + z)"
    assert pp([x, y]) == "x\ny"
    assert symnet.printing.Printer()(x - y) == "(x - y)"


def test_pydotprint(tmp_path, monkeypatch):
    x = T.dvector("x")
    w = symnet.shared(np.ones(2), name="w")
    src = pydotprint(T.exp(x) * w, return_source=True)
    assert src.startswith("digraph G {") and "palegreen" in src
    assert 'label="Elemwise{exp,no_inplace}"' in src   # Theano's pictures name ops so
    out = pydotprint(T.exp(x), str(tmp_path / "g.dot"), format="dot")
    assert open(out).read().startswith("digraph")
    # without graphviz nor dot: a clear ImportError
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ImportError, match="graphviz"):
        pydotprint(T.exp(x), str(tmp_path / "g.png"))


def test_pydot_imported_says_whether_pictures_can_be_drawn(tmp_path):
    # Theano's scripts and tests skip their drawings when it is False
    flag = symnet.printing.pydot_imported
    assert isinstance(flag, bool)
    out = str(tmp_path / "g.png")
    if flag:
        assert pydotprint(T.exp(T.vector("x")), outfile=out) == out
    else:
        with pytest.raises(ImportError, match="Graphviz"):
            pydotprint(T.exp(T.vector("x")), outfile=out)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_theano_names_of_scan_cast_shape_and_named_elemwise(mode):
    x, k = T.dmatrix("x"), T.iscalar("k")
    assert pp(T.nnet.sigmoid(x)) == "sigmoid(x)"        # Theano's named Elemwise
    assert theano_name(T.cast(x, "float32").owner.op) == "Elemwise{Cast{float32}}"
    assert theano_name(T.nnet.softmax(x).owner.op) == "Softmax"
    r, _ = symnet.scan(lambda p, a: p * a, outputs_info=T.ones_like(x), non_sequences=x,
                       n_steps=k)
    f = symnet.function([x, k], r[-1], mode=mode)
    lines = debugprint(f, file="str").splitlines()
    assert lines[1].startswith(" |for{cpu,scan_fn} [id B] ''   ")
    assert any(ln.strip(" |").startswith("Shape_i{0} [id") for ln in lines)
    assert "Elemwise{Cast{int64}} [id C] ''   0" in lines[2]
    named, _ = symnet.scan(lambda p: p * 2, outputs_info=x, n_steps=3, name="double")
    assert "for{cpu,double}" in debugprint(named, file="str")


def test_debugprint_shows_scan_step_graphs_linked_to_outer_inputs():
    # Theano's test_scan_debugprint1 and 4: the step graph after the outer one
    k, a = T.iscalar("k"), T.dvector("A")
    r, _ = symnet.scan(lambda p, A: p * A, outputs_info=T.ones_like(a), non_sequences=a,
                       n_steps=k)
    lines = debugprint(r[-1], file="str").splitlines()
    at = lines.index("Inner graphs of the scan ops:")
    assert lines[at - 1] == "" and lines[at + 1] == ""
    assert lines[at + 2] == "for{cpu,scan_fn} [id B] ''   "
    assert lines[at + 3] == " >Elemwise{mul,no_inplace} [id J] ''   "
    init = next(ln for ln in lines[:at] if ln.strip(" |").startswith("InplaceDimShuffle{x,0}"))
    init_id = init[init.index("[id"):init.index("]") + 1]
    assert lines[at + 4].startswith(" > |") and lines[at + 4].endswith(f"-> {init_id}")
    assert lines[at + 5] == " > |A [id L] -> [id I]"       # the non-sequence outside
    b0 = symnet.shared(np.arange(2, dtype="int64"))
    (u, v), _ = symnet.scan(lambda u2, u1, v2, v1: (u1 + u2, v1 + v2),
                            outputs_info=[{"initial": b0, "taps": [-2, -1]},
                                          {"initial": b0, "taps": [-2, -1]}], n_steps=5)
    text = debugprint(u + v, file="str")
    # shared: no marker, and its type by its broadcastable pattern, as Theano
    assert " | | |<TensorType(int64, vector)> [id E]" in text
    tail = text[text.index("Inner graphs"):].splitlines()
    # each output of the loop, its step in full under the first, then by id only
    assert tail[2] == "for{cpu,scan_fn}.0 [id B] ''   " and len(tail) == 13
    assert tail[4] == " > |state0[t-1] [id H] -> [id D]"   # a tap -> the initial value
    assert tail[9:] == ["", "for{cpu,scan_fn}.1 [id B] ''   ",
                        " >Elemwise{add,no_inplace} [id G] ''   ",
                        " >Elemwise{add,no_inplace} [id J] ''   "]


def test_repr_and_str_are_theano_form():
    # a prompt and a printed list show reprs, print() strs: Theano's form both
    x = T.dvector("x")
    y = T.shape_padaxis(x + 1, 0)
    assert repr(y) == str(y) == "InplaceDimShuffle{x,0}.0"
    assert repr([y.owner]) == "[InplaceDimShuffle{x,0}(Elemwise{add,no_inplace}.0)]"
    # a node prints so both ways (Theano's debug_faq prints nodes in a MonitorMode hook)
    z = 5.0 * T.dscalar("x")
    assert str(z.owner) == repr(z.owner) == "Elemwise{mul,no_inplace}(TensorConstant{5.0}, x)"
    assert repr(T.constant(2)) == "TensorConstant{2}" and repr(T.dmatrix()) == \
        "<TensorType(float64, matrix)>"
    f = symnet.function([x], T.exp(x), mode="py")
    assert repr(f.fgraph.toposort()) == "[Elemwise{exp,no_inplace}(x)]"
    assert theano_name(T.nnet.softmax(T.dmatrix(), axis=0).owner.op) != "Softmax"


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_fused_composite_prints_in_theanos_scalar_words(mode):
    # Theano's debug_faq: Elemwise{Composite{(log(i0) * i0)}}
    x = T.dscalar("x")
    f = symnet.function([x], T.log(x) * x, mode=mode)
    assert debugprint(f, file="str").splitlines()[0] == \
        "Elemwise{Composite{(log(i0) * i0)}} [id A] ''   0"
    y, b = T.dvector("y"), T.dscalar("b")
    g = symnet.function([y, b], T.nnet.sigmoid(-y - b) > 0.5, mode=mode)
    assert debugprint(g, file="str").startswith(
        "Elemwise{Composite{GT(scalar_sigmoid(((-i0) - i1)), i2)}} [id A]")


def test_debugprint_print_storage_of_a_function():
    # Theano's print_storage: each line ends with the variable's storage
    # cell; shared variables and constants hold their values, the rest None
    w = symnet.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x * w) + 1, mode="py")
    text = debugprint(f, file="str", print_storage=True)
    lines = text.splitlines()
    assert lines[0].endswith(" [None]") and lines[0].startswith("Elemwise{")
    assert " |x [id B] [None]" in lines
    assert " |w [id C] [array([1., 2.])]" in lines
    w.set_value(np.array([3.0, 4.0]))
    assert "[array([3., 4.])]" in debugprint(f, file="str", print_storage=True)
    # a graph has no storage: the lines are those without the flag
    y = T.exp(x * w)
    assert debugprint(y, file="str", print_storage=True) == debugprint(y, file="str")


def test_the_gradient_seed_prints_as_theanos_fill():
    # Theano's printing tutorial: pp(T.grad(x ** 2, x)) shows the seed
    # ones_like(cost) as fill(cost, 1.0)
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert symnet.printing.pp(gy) == (
        "((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * "
        "(x ** (TensorConstant{2} - TensorConstant{1})))")
    assert "Elemwise{second,no_inplace}" in symnet.printing.debugprint(gy, file="str")
    assert float(symnet.function([x], gy, mode="py")(3.0)) == 6.0
