"""Tests for symnet.datasets: bundled digits, splitting, MNIST idx files."""
import gzip
import struct

import numpy as np
import pytest

from symnet.datasets import load_digits, load_mnist, read_idx, split


# ---------------------------------------------------------------- digits

def test_load_digits_shapes_dtypes_ranges():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int32
    assert X.min() == 0.0 and X.max() == 1.0
    # Original intensities are integers 0..16.
    np.testing.assert_array_equal(X * 16, np.round(X * 16))
    assert set(np.unique(y).tolist()) == set(range(10))
    # scikit-learn's copy has 174..183 examples per class.
    counts = np.bincount(y)
    assert counts.min() >= 170 and counts.max() <= 185 and counts.sum() == 1797


def test_load_digits_first_row_is_a_zero():
    X, y = load_digits()
    assert y[0] == 0 and y[1] == 1
    img = X[0].reshape(8, 8)
    assert img[:, 0].sum() == 0  # the first column of the 0 is blank
    assert img[3:5, 3:5].sum() == 0  # the hole in the middle


def test_load_digits_returns_fresh_arrays():
    X1, _ = load_digits()
    X1[:] = -1
    X2, _ = load_digits()
    assert X2.min() == 0.0


# ---------------------------------------------------------------- split

def test_split_sizes_and_disjoint_cover():
    X, y = load_digits()
    parts = split(X, y)
    assert set(parts) == {"train", "val", "test"}
    sizes = [len(parts[k][0]) for k in ("train", "val", "test")]
    assert sizes == [1258, 270, 269]
    for Xp, yp in parts.values():
        assert Xp.dtype == np.float32 and yp.dtype == np.int32
        assert len(Xp) == len(yp)
    # Every example lands in exactly one part: match rows back to X.
    rows = np.concatenate([parts[k][0] for k in ("train", "val", "test")])
    labels = np.concatenate([parts[k][1] for k in ("train", "val", "test")])
    order_a = np.lexsort(np.column_stack([rows, labels]).T)
    order_b = np.lexsort(np.column_stack([X, y]).T)
    np.testing.assert_array_equal(rows[order_a], X[order_b])
    np.testing.assert_array_equal(labels[order_a], y[order_b])


def test_split_pairs_stay_together():
    X = np.arange(100, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    y = (np.arange(100) % 4).astype(np.int32)
    for Xp, yp in split(X, y, seed=3).values():
        np.testing.assert_array_equal(Xp[:, 0].astype(int) % 4, yp)


def test_split_is_stratified():
    X, y = load_digits()
    overall = np.bincount(y) / len(y)
    for name, (_, yp) in split(X, y, seed=5).items():
        frac = np.bincount(yp, minlength=10) / len(yp)
        assert np.abs(frac - overall).max() < 0.01, name


def test_split_deterministic_by_seed():
    X, y = load_digits()
    a, b, c = split(X, y, seed=7), split(X, y, seed=7), split(X, y, seed=8)
    for k in ("train", "val", "test"):
        np.testing.assert_array_equal(a[k][0], b[k][0])
        np.testing.assert_array_equal(a[k][1], b[k][1])
    assert not np.array_equal(a["train"][0], c["train"][0])


def test_split_custom_fractions_and_zero_part():
    X = np.zeros((50, 2))
    y = np.arange(50) % 2
    parts = split(X, y, fractions=(0.8, 0.0, 0.2))
    assert [len(parts[k][1]) for k in ("train", "val", "test")] == [40, 0, 10]
    assert parts["val"][0].shape == (0, 2)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1)])
def test_split_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        split(np.zeros((10, 2)), np.zeros(10, int), fractions=fractions)


def test_split_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of examples.*10 and 9"):
        split(np.zeros((10, 2)), np.zeros(9, int))
    with pytest.raises(ValueError, match="1-d"):
        split(np.zeros((10, 2)), np.zeros((10, 1), int))


# ---------------------------------------------------------------- idx / MNIST

def _idx_bytes(arr, code=0x08, dtype=">u1"):
    arr = np.asarray(arr)
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(dtype).tobytes()


def _write(path, arr, gz=False, **kw):
    data = _idx_bytes(arr, **kw)
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    arr = np.random.RandomState(0).randint(0, 256, size=(3, 4, 5)).astype(np.uint8)
    path = _write(tmp_path / "a-idx3-ubyte", arr, gz=gz)
    out = read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("code, dtype", [(0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"),
                                         (0x0E, ">f8"), (0x09, ">i1")])
def test_read_idx_other_types_native_order(tmp_path, code, dtype):
    arr = np.array([[-3, 1], [70, -100]])
    out = read_idx(_write(tmp_path / "t", arr, code=code, dtype=dtype))
    assert out.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(out, arr)


def test_read_idx_bad_magic_names_file(tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="bad-idx1-ubyte.*magic"):
        read_idx(path)


def test_read_idx_unknown_type_code(tmp_path):
    path = _write(tmp_path / "odd", [1, 2], code=0x07)
    with pytest.raises(ValueError, match="odd.*type code 0x07"):
        read_idx(path)


def test_read_idx_truncated(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(_idx_bytes(np.zeros((4, 4)))[:-1])
    with pytest.raises(ValueError, match="short.*16 bytes of data.*15 bytes"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="short.*3 dimensions"):
        read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.zeros(100)))[:20])
    with pytest.raises(ValueError, match="broken.gz"):
        read_idx(path)


def test_read_idx_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def _fake_mnist(directory, n_train=12, n_test=5, gz=False, size=(28, 28)):
    rng = np.random.RandomState(1)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.randint(0, 256, size=(n,) + size).astype(np.uint8)
        labels = rng.randint(0, 10, size=n).astype(np.uint8)
        suffix = ".gz" if gz else ""
        _write(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, gz=gz)
        _write(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz=gz)
        data[prefix] = (images, labels)
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_round_trip(tmp_path, gz):
    raw = _fake_mnist(tmp_path, gz=gz)
    parts = load_mnist(tmp_path, n_val=4)
    assert set(parts) == {"train", "val", "test"}
    (Xtr, ytr), (Xva, yva), (Xte, yte) = parts["train"], parts["val"], parts["test"]
    assert Xtr.shape == (8, 1, 28, 28) and Xva.shape == (4, 1, 28, 28)
    assert Xte.shape == (5, 1, 28, 28)
    for X, y in parts.values():
        assert X.dtype == np.float32 and y.dtype == np.int32
        assert X.min() >= 0 and X.max() <= 1
    images, labels = raw["train"]
    np.testing.assert_allclose(np.concatenate([Xtr, Xva])[:, 0] * 255, images, atol=1e-3)
    np.testing.assert_array_equal(np.concatenate([ytr, yva]), labels)
    np.testing.assert_array_equal(yte, raw["t10k"][1])


def test_load_mnist_default_val_and_zero_val(tmp_path):
    _fake_mnist(tmp_path, n_train=10)
    parts = load_mnist(tmp_path, n_val=0)
    assert len(parts["train"][1]) == 10 and len(parts["val"][1]) == 0
    with pytest.raises(ValueError, match="n_val.*10 training examples.*10000"):
        load_mnist(tmp_path)


def test_load_mnist_missing_file_named(tmp_path):
    _fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_load_mnist_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        load_mnist(tmp_path / "does-not-exist")


def test_load_mnist_bad_magic_names_file(tmp_path):
    _fake_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[0] = 0x12
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic"):
        load_mnist(tmp_path)


def test_load_mnist_count_mismatch(tmp_path):
    _fake_mnist(tmp_path)
    _write(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(ValueError, match="5 images.*t10k-labels-idx1-ubyte.*4 labels"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_ndim_or_type(tmp_path):
    _fake_mnist(tmp_path)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros((12, 1)))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*1-d"):
        load_mnist(tmp_path)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros(12), code=0x0C, dtype=">i4")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*int32"):
        load_mnist(tmp_path)


def test_load_mnist_bad_labels(tmp_path):
    _fake_mnist(tmp_path)
    _write(tmp_path / "train-labels-idx1-ubyte", np.full(12, 10))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*0-9.*10"):
        load_mnist(tmp_path)


def test_load_mnist_image_sizes_differ(tmp_path):
    _fake_mnist(tmp_path)
    _write(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 20, 20)))
    with pytest.raises(ValueError, match="image sizes differ"):
        load_mnist(tmp_path)


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    given = None

if given is not None:
    @settings(max_examples=60, deadline=None)
    @given(n=st.integers(0, 200), n_classes=st.integers(1, 6),
           a=st.integers(0, 10), b=st.integers(0, 10), c=st.integers(0, 10),
           seed=st.integers(0, 2 ** 31 - 1))
    def test_split_property_partition(n, n_classes, a, b, c, seed):
        if a + b + c == 0:
            a = 1
        total = a + b + c
        fractions = (a / total, b / total, c / total)
        X = np.arange(n)
        y = np.arange(n) % n_classes
        parts = split(X, y, seed=seed, fractions=fractions)
        sizes = [len(parts[k][0]) for k in ("train", "val", "test")]
        assert sizes[0] == round(fractions[0] * n)
        assert sum(sizes) == n and min(sizes) >= 0
        ids = np.concatenate([parts[k][0] for k in ("train", "val", "test")])
        np.testing.assert_array_equal(np.sort(ids), X)
        for Xp, yp in parts.values():
            np.testing.assert_array_equal(Xp % n_classes, yp)
