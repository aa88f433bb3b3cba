"""bench/wild_programs.py's pieces that need no checkouts: the Python 2
translation (2to3 plus Python 2's `/`), the stand-in data loaders in the
programs' formats, stopping a program after its N-th result line, and the
reading of what it printed (CI has no checkouts; the runner runs by hand)."""
import io
import types

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from bench.wild_programs import (PROGRAMS, StopProgram, Tee, cifar10_module, classic_div,
                                 gpu_layer_modules, imread_standin, newmu_mnist_module,
                                 numpy1_names, printed_numbers, program_source, py2to3, run_tests,
                                 same_numbers, sentiment_standin, stub_module, write_mnist_npz,
                                 write_mnist_sequence)


def run_py2(source, **names):
    scope = dict(names, __classic_div__=classic_div)
    out = io.StringIO()
    scope["print"] = lambda *a, **k: print(*a, **k, file=out)
    exec(compile(py2to3(source), "<test>", "exec"), scope)
    return scope, out.getvalue()


def test_py2to3_runs_python2_prints_xrange_and_division():
    scope, out = run_py2("print 'a', 7 / 2, 7.0 / 2, -7 / 2\n"
                         "for i in xrange(2): print i,\n"
                         "x = 9\nx /= 2\nprint\nprint x, 2 * 3 / 4 % 5\n")
    assert out == "a 3 3.5 -4\n0 1 \n4 1\n"


def test_py2to3_leaves_future_division_alone():
    _, out = run_py2("from __future__ import division\nprint 7 / 2\n")
    assert out == "3.5\n"


def test_py2to3_reads_a_parenthesised_future_division():
    # sknn: from __future__ import (absolute_import, division, ...), then
    # `count / batches` with integers is a true division
    _, out = run_py2("from __future__ import (absolute_import, division,\n"
                     "                        print_function)\nprint(7 / 2)\n")
    assert out == "3.5\n"
    _, out = run_py2("from __future__ import print_function  # division later\nprint(7 / 2)\n")
    assert out == "3\n"


def test_classic_div_on_symbolic_integers_is_integer_division():
    # rnnclassifier.py's `l = M.shape[0] / total_slices` then M[0:l]: Theano's
    # __div__ of integers was an integer division
    m = T.vector("m")
    half = classic_div(m.shape[0], 2)
    assert half.dtype.startswith("int")
    f = symnet.function([m], m[half:], mode="py")
    assert np.array_equal(f(np.arange(5, dtype=m.dtype)), [2, 3, 4])
    assert classic_div(m, 2).dtype == m.dtype  # floats divide truly
    assert classic_div(np.arange(5), 2).tolist() == [0, 0, 1, 1, 2]


def test_standin_loaders_have_the_programs_formats():
    trX, teX, trY, teY = newmu_mnist_module().mnist(onehot=True)
    assert trX.shape == (512, 784) and teX.shape == (256, 784) and trX.dtype == np.float64
    assert trX.min() == 0.0 and trX.max() == 1.0
    assert trY.shape == (512, 10) and np.array_equal(trY.sum(1), np.ones(512))
    _, _, y, _ = newmu_mnist_module().mnist(ntrain=100, onehot=False)
    assert y.shape == (100,) and y.dtype.kind == "i"
    x, t, xt, tt = cifar10_module().cifar10(dtype="float32", grayscale=False)
    assert x.shape == (500, 3072) and xt.shape == (250, 3072) and x.dtype == np.float32
    # the three colour planes are the same digit, and the labels one-hot
    assert np.array_equal(x[:, :1024], x[:, 2048:]) and np.array_equal(t.sum(1), np.ones(500))
    assert cifar10_module().cifar10()[0].shape == (500, 1024)


def test_sentiment_standin_scores_follow_words():
    for line in sentiment_standin(n=50):
        score, sentence = line.split("\t")
        words = [int(w[1:]) for w in sentence.split()]
        polar = [w for w in words if w < 20]
        want = np.mean([w >= 10 for w in polar]) if polar else 0.5
        assert float(score) == pytest.approx(want, abs=1e-4)


def test_tee_stops_the_program_after_its_nth_result_line():
    out = io.StringIO()
    tee = Tee(out, "accuracy", 2)
    tee.write("iteration 1\naccuracy: 0.5\n")
    with pytest.raises(StopProgram, match="after 2 result lines"):
        tee.write("iteration 2\naccur")
        tee.write("acy: 0.7\n")
    assert out.getvalue() == "iteration 1\naccuracy: 0.5\niteration 2\naccuracy: 0.7\n"
    assert not issubclass(StopProgram, Exception)  # a program's `except Exception` lets it by
    Tee(io.StringIO(), ".", None).write("runs to the end\n" * 5)


def test_printed_numbers_and_same_numbers():
    text = ("iteration 1\naccuracy: 0.61\n0.25\nBatch #500: 0.667376\n"
            "Epoch: 0\tCost: 395.3\tAccuracy: 0.3083\n[0.355 0.407]\nEpoch 1 of 2 took 13.439s\n")
    nums = printed_numbers(text)
    assert nums == [("iteration", 1.0), ("accuracy", 0.61), ("", 0.25), ("Batch #", 500.0),
                    ("", 0.667376), ("Epoch", 0.0), ("Cost", 395.3), ("Accuracy", 0.3083),
                    ("", 0.355), ("", 0.407), ("Epoch", 1.0), ("of", 2.0)]
    assert same_numbers(nums, nums) is None
    other = [(lab, v + 0.1 if lab == "Cost" else v) for lab, v in nums]
    assert same_numbers(nums, other) == "1 of 12 differ, first Cost: 395.3 vs 395.4"
    assert "labels differ" in same_numbers(nums, nums[1:])


def test_programs_table_is_well_formed():
    for name, spec in PROGRAMS.items():
        assert "/" in name and "+" in spec["repo"] and spec["script"].endswith((".py", ".ipynb")), name
        assert spec["stop"] is None or spec["stop"] >= 1


def test_run_tests_runs_each_test_function_and_fails_when_one_fails(capsys):
    module = types.ModuleType("test_demo")
    exec("def helper():\n    raise RuntimeError\n"
         "def test_ok():\n    assert 1 + 1 == 2\n"
         "def test_bad():\n    assert [1] == [2], 'lists differ'\n", module.__dict__)
    with pytest.raises(AssertionError, match="1 test.s. failed: test_bad"):
        run_tests(module)
    assert capsys.readouterr().out == "passed test_ok\nFAILED test_bad: AssertionError: lists differ\n"


def test_stub_module_makes_parents_and_printing_logs(monkeypatch, capsys):
    import sys
    for name in ("fakepkg", "fakepkg.sub"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    stub_module("fakepkg.sub", ["draw", "print:info"])
    import fakepkg.sub
    assert fakepkg.sub.draw(1, x=2) is None
    fakepkg.sub.info("loss: %.2f", 0.5)
    assert capsys.readouterr().out == "loss: 0.50\n"
    assert sys.modules["fakepkg"].sub is sys.modules["fakepkg.sub"]


def test_run_tests_runs_unittest_cases_with_their_setup(capsys):
    # deep_q_rl's tests are unittest.TestCase classes with setUp
    module = types.ModuleType("test_cases")
    exec("import unittest\n"
         "class Cases(unittest.TestCase):\n"
         "    def setUp(self):\n        self.n = 2\n"
         "    def test_ok(self):\n        self.assertEqual(self.n, 2)\n"
         "    def test_bad(self):\n        self.assertEqual(self.n, 3)\n"
         "    @unittest.skip('no ALE')\n    def test_skipped(self):\n        pass\n",
         module.__dict__)
    with pytest.raises(AssertionError, match="1 test.s. failed: Cases.test_bad"):
        run_tests(module)
    out = capsys.readouterr().out.splitlines()
    assert out == ["FAILED Cases.test_bad: AssertionError: AssertionError: 2 != 3",
                   "passed Cases.test_ok", "skipped Cases.test_skipped: no ALE"]


def test_numpy1_names_put_back_np_cast_and_collections_abcs():
    import collections
    numpy1_names()
    got = np.cast["float32"]([1, 2])
    assert got.dtype == np.float32 and got.tolist() == [1.0, 2.0]
    assert collections.Iterable is collections.abc.Iterable
    assert np.product((2, 3, 4)) == 24  # sknn's backend


def test_mnist_sequence_standin_has_the_npz_format(tmp_path):
    write_mnist_sequence(str(tmp_path), n=6)
    data = np.load(tmp_path / "mnist_sequence3_sample_8distortions_9x9.npz")
    for part in ("train", "valid", "test"):
        X, y = data[f"X_{part}"], data[f"y_{part}"]
        assert X.shape == (6, 10000) and X.dtype == np.float32 and y.shape == (6, 3)
        assert y.dtype == np.int32 and 0 <= y.min() and y.max() <= 9
        assert 0 <= X.min() and X.max() == 1.0
    canvas = data["X_train"][0].reshape(100, 100)
    # three digits side by side, nothing between them
    assert all(canvas[:, 4 + 32 * j:32 + 32 * j].any() for j in range(3))
    assert not canvas[:, 32:36].any() and not canvas[:, 96:].any()
    assert not np.array_equal(data["X_train"], data["X_test"])


def test_programs_that_log_their_results_tee_stderr():
    assert PROGRAMS["spn/rnn_spn"]["stderr"] and PROGRAMS["spn/ffn_spn"]["stderr"]
    assert not PROGRAMS["newmu/0_multiply"]["stderr"]


def test_notebook_source_is_its_code_cells_without_ipython_lines(tmp_path):
    import json
    nb = {"cells": [{"cell_type": "markdown", "source": ["# title"]},
                    {"cell_type": "code", "source": ["!wget x\n", "a = 7 / 2\n"]},
                    {"cell_type": "code", "source": "%matplotlib inline\nprint a"}]}
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    source = program_source(str(path))
    assert source == "a = 7 / 2\n\nprint a\n"
    _, out = run_py2(source)
    assert out == "3\n"  # Python 2's division and print, as in the notebook's kernel


def test_imread_standin_is_a_png_picture():
    im = imread_standin("64px-cube.png")
    assert im.shape == (64, 64, 4) and im.dtype == np.float32 and 0 <= im.min() <= im.max() <= 1
    np.testing.assert_array_equal(im, imread_standin("other/64px-cube.png"))


def test_mnist_npz_standin_has_improved_gans_keys(tmp_path):
    write_mnist_npz(str(tmp_path), n_train=40, n_valid=10, n_test=20)
    data = np.load(tmp_path / "mnist.npz")
    assert data["x_train"].shape == (40, 784) and data["x_train"].dtype == np.float32
    assert data["x_valid"].shape == (10, 784) and data["y_test"].shape == (20,)
    assert data["x_train"].max() == 1.0 and data["y_train"].dtype.kind == "i"


def test_gpu_layer_standins_compute_the_cpu_layers_without_flipping():
    # deep_q_rl's Conv2DCCLayer / Conv2DDNNLayer and improved-gan's
    # dnn.as_tuple; the GPU layers' default is flip_filters=False
    import sys
    import symnet.layers
    from symnet import compat
    compat.install()
    try:
        dnn, cc = gpu_layer_modules()
        import lasagne.layers as L
        l_in = L.InputLayer((2, 3, 7, 7))
        rng = np.random.RandomState(0)
        W = rng.randn(4, 3, 3, 3).astype(symnet.config.floatX)
        layers = [dnn.Conv2DDNNLayer(l_in, 4, 3, W=W, b=None, stride=2),
                  cc.Conv2DCCLayer(l_in, 4, (3, 3), stride=(2, 2), W=W, b=None),
                  L.Conv2DLayer(l_in, 4, 3, W=W, b=None, stride=2, flip_filters=False),
                  L.Conv2DLayer(l_in, 4, 3, W=W, b=None, stride=2)]
        f = symnet.function([l_in.input_var], [L.get_output(x) for x in layers], mode="py")
        dnn_out, cc_out, plain, flipped = f(rng.rand(2, 3, 7, 7).astype(symnet.config.floatX))
        assert dnn_out.shape == (2, 4, 3, 3)
        np.testing.assert_array_equal(dnn_out, plain)
        np.testing.assert_array_equal(cc_out, plain)
        assert not np.allclose(dnn_out, flipped)
        assert dnn.as_tuple(2, 2) == (2, 2) and dnn.MaxPool2DDNNLayer is L.MaxPool2DLayer
        with pytest.raises(NotImplementedError, match="c01b"):
            cc.Conv2DCCLayer(l_in, 4, 3, dimshuffle=False)
    finally:
        compat.uninstall()
        for name in ("dnn", "cuda_convnet"):  # the stand-ins were set on symnet.layers
            if hasattr(symnet.layers, name):
                delattr(symnet.layers, name)
            sys.modules.pop(f"lasagne.layers.{name}", None)
