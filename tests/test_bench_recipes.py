"""bench/recipes.py's pieces that need no Recipes checkout: the synthetic
data in the formats the recipes load, the random weights, the Python 2
conversion and the cuDNN stand-in's names (CI has no checkout; the runner
runs by hand)."""
import gzip
import json
import os
import pickle
import sys

import numpy as np

import symnet
import symnet.layers
from bench.recipes import (DNN_NAMES, Py2Str, cifar_batches_standin, cluttered_mnist_standin,
                           load, mnist_idx_standin, py2_source, random_param_values,
                           resize_nearest, run_notebook, standin_text)


def test_cifar_batches_load_as_the_deep_residual_script_reads_them(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    cifar_batches_standin(str(folder), per_batch=7)
    names = sorted(os.listdir(folder))
    assert names == [f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]
    with open(folder / "data_batch_3", "rb") as f:
        d = pickle.load(f)
    assert d["data"].dtype == np.uint8 and d["data"].shape == (7, 3072)
    assert len(d["labels"]) == 7 and all(0 <= v < 10 for v in d["labels"])
    # a class's images are brighter by 12 per class: the labels can be learnt
    assert np.array_equal(d["data"].min(axis=1) >= 12 * np.array(d["labels"]),
                          np.ones(7, bool))


def test_mnist_idx_file_reads_as_the_autoencoder_reads_it(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    mnist_idx_standin(str(path), 1800)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert np.frombuffer(raw[:16], ">i4").tolist() == [2051, 1800, 28, 28]
    data = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)
    assert data.shape == (1800, 1, 28, 28) and data.max() == 255
    assert data[:, :, :2].max() == 0 and data[:, :, 26:].max() == 0  # centred 24x24
    assert np.array_equal(data[0], data[1797])  # the 1,797 digits, cycled


def test_random_param_values_keep_the_scale_of_each_kind():
    params = [symnet.shared(np.zeros((64, 32, 3, 3), np.float32), name="conv.W"),
              symnet.shared(np.zeros((512, 10), np.float32), name="W"),
              symnet.shared(np.zeros(64, np.float32), name="bn.inv_std"),
              symnet.shared(np.zeros(64, np.float32), name="gamma"),
              symnet.shared(np.zeros(64, np.float32), name="b")]
    conv, dense, inv_std, gamma, b = random_param_values(params)
    assert [v.shape for v in (conv, dense, inv_std)] == [(64, 32, 3, 3), (512, 10), (64,)]
    assert all(v.dtype == np.float32 for v in (conv, dense, inv_std, gamma, b))
    assert abs(conv.std() - np.sqrt(2 / (32 * 9))) < 0.01  # fan in: 32 channels x 3x3
    assert abs(dense.std() - np.sqrt(2 / 512)) < 0.01       # fan in: 512 rows
    assert inv_std.min() >= 0.8 and inv_std.max() <= 1.2 and gamma.min() >= 0.8
    assert np.abs(b).max() < 0.05
    again = random_param_values(params)
    assert all(np.array_equal(a, c) for a, c in zip(again, (conv, dense, inv_std, gamma, b)))


def test_py2_source_converts_only_what_python3_cannot_parse():
    py3 = "x = 1\nprint(x / 2)\n"
    assert py2_source(py3) == py3
    converted = py2_source("import cPickle\nn = 3\nprint 'batch_' + `n+1`\n")
    assert "print('batch_' + repr(n+1))" in converted


def test_python2_division_only_for_two_integers(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # load() puts the recipe's folder first
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    recipe = tmp_path / "py2_models.py"
    recipe.write_text("a = 10 / 4\nb = 10.0 / 4\nc = 9\nc /= 2\nd = [7 / 2 for _ in 'x']\n")
    m = load(str(recipe), "py2_models", division=True)
    assert (m.a, m.b, m.c, m.d) == (2, 2.5, 4, [3])
    assert isinstance(m.a, int) and isinstance(m.b, float)
    plain = load(str(recipe), "py3_models")
    assert (plain.a, plain.c) == (2.5, 4.5)


def test_the_cudnn_stand_in_names_cpu_layers_symnet_has():
    for dnn_name, cpu_name in DNN_NAMES.items():
        assert hasattr(symnet.layers, cpu_name), (dnn_name, cpu_name)
    assert DNN_NAMES["Conv2DDNNLayer"] == "Conv2DLayer"


def test_standin_text_holds_the_generation_phrase_and_acts_as_python2_str():
    text = standin_text(2000)
    assert len(text) == 2000 and text.startswith("The quick brown fox jumps")
    s = Py2Str(text)
    assert s.decode("utf-8-sig").encode("utf-8") == text and isinstance(s.decode(), str)


def test_notebook_cells_run_in_order_without_ipython_lines(tmp_path):
    cells = [{"cell_type": "code", "source": ["%matplotlib inline\n", "N = 500\n"]},
             {"cell_type": "markdown", "source": ["# text"]},
             {"cell_type": "code", "source": "!wget http://x\nxs = list(range(N))\n"},
             {"cell_type": "code", "source": ["w = open('weights.pkl').read()\n"]},
             {"cell_type": "code", "source": ["print 'total', sum(xs)\n", "total = sum(xs)\n"]}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4}))

    def small(ns):
        ns["N"] = 5
    ns = run_notebook(str(path), replace={3: lambda ns: ns.update(w="random")}, after={0: small})
    assert ns["xs"] == [0, 1, 2, 3, 4] and ns["total"] == 10 and ns["w"] == "random"
    ns = run_notebook(str(path), replace={3: None, 4: None})
    assert len(ns["xs"]) == 500 and "w" not in ns and "total" not in ns


def test_resize_nearest_and_cluttered_mnist(tmp_path):
    image = np.arange(12).reshape(3, 4)
    assert resize_nearest(image, (6, 2)).tolist() == [[0, 2], [0, 2], [4, 6], [4, 6],
                                                      [8, 10], [8, 10]]
    assert resize_nearest(np.zeros((120, 160, 3)), (32, 160 * 32 / 120)).shape == (32, 42, 3)
    path = tmp_path / "cluttered.npz"
    cluttered_mnist_standin(str(path), sizes=(10, 4, 4))
    data = np.load(path)
    assert data["x_train"].shape == (10, 3600) and data["x_train"].dtype == np.float32
    assert data["y_valid"].shape == (4, 10) and np.all(data["y_valid"].sum(axis=1) == 1)
    assert 0 <= data["x_test"].min() and data["x_test"].max() <= 1
