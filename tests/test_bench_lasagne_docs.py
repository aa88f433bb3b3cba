"""bench/lasagne_docs.py's pieces that need no Lasagne checkout: how a page's
code is cut into items, the digits stand-in for MNIST, and the comparison
of two runs' printed numbers (CI has no Lasagne; the harness runs by hand)."""
import numpy as np

from bench.lasagne_docs import compare, digits_like_mnist, page_items, printed_numbers

PAGE = """\
Intro text.

.. code-block:: python

    import math

A function written over three blocks:

.. code-block:: python

    def area(r):
        squared = r * r

.. code:: python

    result = math.pi * squared

.. code-block:: python

    return result

A sketch:

.. code-block:: python

    def load():
        ...
        return data

.. code-block:: bash

    echo not python

>>> area(1.0) > 3
True
>>> round(area(2.0), 2)
12.57
"""


def test_page_items_rebuild_a_function_split_over_blocks():
    items = page_items(PAGE)
    kinds = [k for k, _, _ in items]
    assert kinds == ["code", "code", "sketch", "doctest"]
    ns = {}
    exec(items[0][1], ns)
    exec(items[1][1], ns)  # def area with the two blocks after it as its body
    assert abs(ns["area"](2.0) - 4 * np.pi) < 1e-12
    assert items[1][2] == 9  # the line of the directive that opened the function
    assert "return data" in items[2][1]
    assert items[3][1].startswith(">>> area(1.0) > 3")


def test_digits_like_mnist_has_mnist_layout():
    X_train, y_train, X_val, y_val, X_test, y_test = digits_like_mnist()
    assert X_train.shape == (797, 1, 28, 28) and X_val.shape == X_test.shape == (500, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert 0.0 <= X_train.min() and X_train.max() == 1.0
    assert set(np.unique(y_val)) == set(range(10))
    # the 8x8 image sits enlarged in the middle: the 2-pixel border is empty
    assert not X_test[:, :, :2].any() and not X_test[:, :, :, 26:].any()


def test_compare_finds_a_difference(tmp_path, capsys):
    run = ("Epoch 1 of 1 took 0.3s\n  training loss:\t\t2.515045\n"
           "  validation accuracy:\t\t10.40 %\nEpoch 0 validation cost = 0.11\n")
    assert printed_numbers(run) == [("training loss", 2.515045), ("validation accuracy", 10.4),
                                    ("Epoch 0 validation cost", 0.11)]
    a, b, c = tmp_path / "a.numba.log", tmp_path / "a.py.log", tmp_path / "c.py.log"
    a.write_text(run)
    b.write_text(run.replace("10.40", "10.60"))  # one image of 500 differs
    c.write_text(run.replace("2.515045", "2.525045"))
    assert compare(str(a), str(b)) == 0
    assert compare(str(a), str(c)) == 1
    out = capsys.readouterr().out
    assert "a.numba.log and c.py.log differ: training loss: 2.515045 vs 2.525045" in out
