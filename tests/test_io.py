"""atomic_write: the target appears whole or not at all."""
import os

import pytest

from symnet._io import atomic_write


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(str(path), lambda fh: fh.write("one"))
    assert path.read_text() == "one"

    def broken(fh):
        fh.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(path), broken)
    assert path.read_text() == "one"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_write_binary(tmp_path):
    path = tmp_path / "b.bin"
    atomic_write(str(path), lambda fh: fh.write(b"\x00\x01"), binary=True)
    assert path.read_bytes() == b"\x00\x01"
