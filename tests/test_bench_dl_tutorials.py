"""bench/dl_tutorials.py's pieces that need no tutorials checkout: the
stand-in data sets in the formats the programs load, and the reading and
comparing of what a program printed (CI has no checkout; the runner runs
by hand)."""
import gzip
import pickle

import numpy as np

from bench.dl_tutorials import (atis_standin, imdb_standin, learns, mnist_standin,
                                printed_numbers, same_numbers, write_data)


def test_mnist_standin_has_the_tutorials_format(tmp_path):
    write_data(str(tmp_path))
    with gzip.open(tmp_path / "mnist.pkl.gz", "rb") as f:
        train, valid, test = pickle.load(f, encoding="latin1")  # as load_data reads it
    assert [len(s[0]) for s in (train, valid, test)] == [2000, 800, 794]
    for x, y in (train, valid, test):
        assert x.dtype == np.float32 and x.shape[1] == 784 and y.shape == (len(x),)
        assert x.min() == 0.0 and x.max() == 1.0
        assert y.dtype.kind == "i" and set(np.unique(y)) == set(range(10))
    # each split holds two copies of its images, the second moved a pixel up
    # and right: the same digit, a different picture
    half = len(train[0]) // 2
    first, second = train[0][:half].reshape(-1, 28, 28), train[0][half:].reshape(-1, 28, 28)
    assert np.array_equal(train[1][:half], train[1][half:])
    assert np.array_equal(first[:, 2:26, 2:26], second[:, 1:25, 3:27])
    # logistic_cg.py's 600-image batches: one of validation, one of test
    assert len(valid[0]) // 600 == 1 and len(test[0]) // 600 == 1


def test_imdb_standin_is_learnable():
    (train_x, train_y), (test_x, test_y) = imdb_standin(n_train=200, n_test=50)
    assert len(train_x) == len(train_y) == 200 and len(test_x) == 50
    assert all(isinstance(w, int) and 2 <= w < 200 for s in train_x for w in s)
    assert set(train_y) == {0, 1}
    # a review's words mostly come from its label's half of the vocabulary
    share_high = [np.mean(np.array(s) >= 100) for s in train_x]
    by_label = [np.mean([h for h, y in zip(share_high, train_y) if y == lab]) for lab in (0, 1)]
    assert by_label[0] < 0.2 and by_label[1] > 0.8


def test_atis_standin_labels_follow_words():
    train, valid, test, dicts = atis_standin(n_train=30)
    lex, ne, y = train
    assert len(lex) == len(ne) == len(y) == 30
    labels = {i: name for name, i in dicts["labels2idx"].items()}
    for words, tags in zip(lex, y):
        assert words.dtype == np.int32 and words.shape == tags.shape
        for w, t in zip(words, tags):
            assert labels[t] == ("O" if w < 40 else "B-city" if w < 50
                                 else "I-city" if w < 55 else "B-date")
            if labels[t] == "I-city":  # conlleval needs an I- tag to follow its B- tag
                assert labels[tags[list(words).index(w) - 1]] == "B-city"
    assert max(max(s) for s in lex) < len(dicts["words2idx"])


LOG = """\
epoch 1, minibatch 10/10, validation error 10.625000 %
     epoch 1, minibatch 10/10, test error of best model 9.000000 %
Training epoch 0, cost  180.2261
Pre-training layer 1, epoch 0, cost  -677.39
Training epoch 1, cost is  -211.46436
Epoch  0 Update  24 Cost  0.6905049
Train  0.0 Valid  0.05 Test  0.02
[learning] epoch 0 >> 100.00% completed in 0.23 (sec) <<\rNEW BEST: epoch 0 valid F1 91.5 best test F1 90.1
final acceptance_rate 0.900015
"""


def test_printed_numbers_reads_each_tutorials_way_of_printing():
    assert printed_numbers(LOG) == [
        ("validation error", 10.625), ("test error of best model", 9.0), ("cost", 180.2261),
        ("layer 1 cost", -677.39), ("cost is", -211.46436), ("Cost", 0.6905049),
        ("Train", 0.0), ("Valid", 0.05), ("Test", 0.02), ("valid F1", 91.5),
        ("test F1", 90.1), ("final acceptance_rate", 0.900015)]


def test_same_numbers_and_learns():
    a = printed_numbers(LOG)
    assert same_numbers(a, a) is None
    b = [(lab, v * (1 + 1e-3) if lab == "cost" else v) for lab, v in a]
    assert same_numbers(a, b) == "1 of 12 differ, first cost: 180.226 vs 180.406"
    assert "labels differ" in same_numbers(a, a[:-1])
    layered = [("layer 0 cost", 5.0), ("layer 0 cost", 4.0), ("layer 1 cost", 9.0),
               ("layer 1 cost", 7.0), ("validation error", 30.0), ("validation error", 12.0)]
    assert learns(layered, "validation error") == (30.0, 12.0)
    assert learns(layered, "cost") == (9.0, 7.0)  # the last layer's series
    assert learns(layered[:1], "cost") is None


def test_two_trainings_are_two_series():
    # dA.py trains without, then with, corruption: each its own series
    text = ("Training epoch 0, cost  180.2\nTraining epoch 1, cost  150.1\n"
            "Training epoch 0, cost  190.3\nTraining epoch 1, cost  161.8\n")
    numbers = printed_numbers(text)
    assert [lab for lab, _ in numbers] == ["cost", "cost", "run 2 cost", "run 2 cost"]
    assert learns(numbers, "cost") == (190.3, 161.8)
    assert learns(numbers[:3], "cost") is None  # the second run's one epoch tells nothing


def test_run_fresh_keeps_the_callers_other_theano_flags(monkeypatch):
    # a program's floatX replaces the caller's, device=cuda stays
    import bench.dl_tutorials as dl
    seen = {}
    monkeypatch.setattr(dl, "run_child", lambda args, env, *rest, **kw: seen.update(env))
    monkeypatch.setenv("THEANO_FLAGS", "device=cuda,floatX=float32")
    monkeypatch.delenv("FLOATX", raising=False)
    dl.run_fresh("prog.py", [], "py", "log", "out.json", floatx="float64")
    assert seen["THEANO_FLAGS"] == "device=cuda,floatX=float64"
    assert seen["SYMNET_MODE"] == "py"
