"""Small datasets for examples and the ``symnet train`` job.

:func:`load_digits` reads the 8x8 handwritten digits bundled with symnet
(no download needed), :func:`split` cuts a dataset into train, validation
and test parts, and :func:`load_mnist` reads MNIST from the four standard
idx files in a directory, which :func:`read_idx` parses. The loaders and
:func:`split` return the same structure, a dict of ``(X, y)`` pairs under
the keys ``'train'``, ``'val'`` and ``'test'``, so either dataset can feed
the same training loop.

Examples
--------
>>> from symnet.datasets import load_digits, split
>>> parts = split(*load_digits())
>>> X_train, y_train = parts['train']
>>> X_train.shape, y_train.dtype
((1258, 64), dtype('int32'))
"""
import gzip
import os
from importlib import resources

import numpy as np

__all__ = ["load_digits", "split", "load_mnist", "read_idx"]

# idx type codes (third header byte) and the big-endian dtypes they denote.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_digits():
    """Load the bundled 8x8 handwritten digits (UCI optical recognition).

    The 1,797 images of the digits 0-9 as distributed with scikit-learn
    (see ``symnet/data/README.txt`` for the source and licence).

    Returns
    -------
    X : numpy.ndarray
        float32 array of shape (1797, 64): the 8x8 images flattened row by
        row, with the original 0-16 intensities scaled to [0, 1].
    y : numpy.ndarray
        int32 array of shape (1797,) with the labels 0-9.

    Examples
    --------
    >>> from symnet.datasets import load_digits
    >>> X, y = load_digits()
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((1797, 64), dtype('float32'), (1797,), dtype('int32'))
    >>> float(X.min()), float(X.max()), int(y.min()), int(y.max())
    (0.0, 1.0, 0, 9)
    """
    ref = resources.files("symnet").joinpath("data").joinpath("digits.csv.gz")
    with ref.open("rb") as raw, gzip.open(raw, "rt") as text:
        data = np.loadtxt(text, delimiter=",", dtype=np.int32)
    if data.ndim != 2 or data.shape[1] != 65:
        raise ValueError(
            f"{ref}: expected rows of 65 comma-separated integers (64 pixels "
            f"and a label), got an array of shape {data.shape}")
    X = data[:, :64].astype(np.float32) / np.float32(16)
    y = np.ascontiguousarray(data[:, 64])
    return X, y


def split(X, y, seed=0, fractions=(0.7, 0.15, 0.15)):
    """Split a dataset into stratified train, validation and test parts.

    The part sizes are ``round(fractions[0] * n)``, ``round(fractions[1] *
    n)`` and the rest. Within each class the examples are shuffled and dealt
    out in proportion, so each part has (up to rounding) the class balance
    of the whole. The result depends only on the data and `seed`.

    Parameters
    ----------
    X : numpy.ndarray
        Inputs, examples along the first axis.
    y : numpy.ndarray
        Labels, one per example (1-d).
    seed : int
        Seed of the ``numpy.random.RandomState`` that does the shuffling.
    fractions : tuple of 3 floats
        Fractions of the examples in the train, validation and test parts;
        non-negative and summing to 1.

    Returns
    -------
    dict
        ``{'train': (X, y), 'val': (X, y), 'test': (X, y)}``, new arrays
        with the examples of each part in shuffled order.

    Raises
    ------
    ValueError
        If `X` and `y` differ in length, `y` is not 1-d, or `fractions` is
        not three non-negative numbers summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.datasets import split
    >>> X = np.arange(20).reshape(10, 2)
    >>> y = np.array([0, 1] * 5)
    >>> parts = split(X, y, seed=1, fractions=(0.6, 0.2, 0.2))
    >>> [len(parts[k][1]) for k in ('train', 'val', 'test')]
    [6, 2, 2]
    >>> sorted(np.bincount(parts['train'][1]).tolist())
    [3, 3]
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"split: y must be 1-d, got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(
            f"split: X and y must have the same number of examples, got "
            f"{len(X)} and {len(y)}")
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"split: fractions must be three non-negative numbers summing to "
            f"1 (train, val, test), got {fractions}")
    n = len(y)
    rng = np.random.RandomState(seed)
    # Give each example a key in [0, 1): its position within its shuffled
    # class, spread evenly, plus jitter. Sorting by the key interleaves the
    # classes in proportion, so cutting the sorted order at the part sizes
    # gives exact sizes and stratified parts at the same time.
    key = np.empty(n)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        key[members] = (np.arange(len(members)) + rng.uniform(size=len(members))) / len(members)
    order = np.argsort(key, kind="stable")
    n_train = int(round(fractions[0] * n))
    n_val = min(int(round(fractions[1] * n)), n - n_train)
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, n)}
    parts = {}
    for name, (start, stop) in bounds.items():
        idx = order[start:stop]
        # Sorted by key the classes follow a regular pattern; shuffle it away.
        idx = idx[rng.permutation(len(idx))]
        parts[name] = (X[idx], y[idx])
    return parts


def _open(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path):
    """Read one idx file (the format of MNIST), gzipped or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is detected from the content, not the
        name.

    Returns
    -------
    numpy.ndarray
        The array, in native byte order, with the shape given in the header.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the header is malformed (bad magic, unknown type code) or the data
        does not match the header's size; the message names the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from symnet.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), 'tiny-idx1-ubyte')
    >>> with open(path, 'wb') as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = os.fspath(path)
    try:
        with _open(path) as f:
            content = f.read()
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: cannot read idx file ({exc})") from exc
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(
            f"{path}: not an idx file: the magic number must start with two "
            f"zero bytes, got {content[:4].hex() or 'an empty file'}")
    code, ndim = content[2], content[3]
    if code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: unknown idx type code 0x{code:02x}; expected one of "
            f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(
            f"{path}: idx header declares {ndim} dimensions but the file ends "
            f"after {len(content)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(content) - header != expected:
        raise ValueError(
            f"{path}: idx header declares shape {dims} of {dtype.name} "
            f"({expected} bytes of data) but the file holds "
            f"{len(content) - header} bytes after the header")
    data = np.frombuffer(content, dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def _find(directory, name):
    candidates = [os.path.join(directory, name), os.path.join(directory, name + ".gz")]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"MNIST file {name!r} not found: tried {' and '.join(candidates)}; "
        f"download the four idx files from the MNIST site into {directory!r}")


def _check(path, data, ndim, code_dtype):
    if data.ndim != ndim or data.dtype != code_dtype:
        raise ValueError(
            f"{path}: expected a {ndim}-d idx array of unsigned bytes, got "
            f"{data.ndim}-d {data.dtype}")


def load_mnist(directory, n_val=10000):
    """Load MNIST from the four standard idx files in `directory`.

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each either
    plain or gzipped with a ``.gz`` suffix. As in Lasagne's MNIST example,
    the last `n_val` training examples become the validation part.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory holding the files.
    n_val : int
        Number of training examples held out for validation (0 for an
        empty validation part).

    Returns
    -------
    dict
        ``{'train': (X, y), 'val': (X, y), 'test': (X, y)}`` where X is
        float32 of shape (N, 1, rows, cols) scaled to [0, 1] and y is int32
        labels 0-9; for MNIST rows = cols = 28 and N is 60000 - n_val,
        n_val and 10000.

    Raises
    ------
    FileNotFoundError
        If `directory` or one of the files is missing (named in the message).
    ValueError
        If a file is malformed, images and labels disagree in number, the
        train and test images differ in size, a label is outside 0-9, or
        `n_val` is out of range.

    Examples
    --------
    >>> from symnet.datasets import load_mnist
    >>> load_mnist('/no/such/dir')
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST directory '/no/such/dir' does not exist
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"MNIST directory {directory!r} does not exist")
    loaded, paths = {}, {}
    for part, (images_name, labels_name) in _MNIST_FILES.items():
        images_path = _find(directory, images_name)
        labels_path = _find(directory, labels_name)
        images = read_idx(images_path)
        labels = read_idx(labels_path)
        _check(images_path, images, 3, np.uint8)
        _check(labels_path, labels, 1, np.uint8)
        if len(images) != len(labels):
            raise ValueError(
                f"{images_path} holds {len(images)} images but {labels_path} "
                f"holds {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{labels_path}: labels must be 0-9, found {labels.max()}")
        X = images[:, np.newaxis].astype(np.float32) / np.float32(255)
        loaded[part] = (X, labels.astype(np.int32))
        paths[part] = images_path
    if loaded["train"][0].shape[2:] != loaded["test"][0].shape[2:]:
        raise ValueError(
            f"image sizes differ: {paths['train']} has "
            f"{loaded['train'][0].shape[2:]}, {paths['test']} has "
            f"{loaded['test'][0].shape[2:]}")
    X, y = loaded["train"]
    if not 0 <= n_val <= len(y):
        raise ValueError(
            f"n_val must be between 0 and the {len(y)} training examples, got {n_val}")
    cut = len(y) - n_val
    return {"train": (X[:cut], y[:cut]), "val": (X[cut:], y[cut:]),
            "test": loaded["test"]}
