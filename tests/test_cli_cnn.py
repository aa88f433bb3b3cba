"""``symnet train --model cnn``: the convolutional model builds on the
bundled digits (flat 8x8 images viewed as one channel), trains on the
numba backend with no Python perform anywhere (SYMNET_STRICT raises on a
fallback) and learns."""
import re

import numpy as np
import pytest

from symnet import cli
from symnet.configdefaults import config


def test_cnn_model_trains_compiled_without_fallback(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(config, "strict", True)
    args = cli.build_parser().parse_args(
        ["train", "--model", "cnn", "--mode", "numba", "--epochs", "2", "--no-progress",
         "--out", str(tmp_path)])
    acc = cli.train(args)
    text = capsys.readouterr().out
    # 32*9+32, 64*32*9+64, (64*2*2)*256+256, 256*10+10
    assert "model cnn: 87178 parameters" in text
    assert re.search(r"test accuracy: \d+\.\d\d %", text)
    assert acc > 0.5          # two epochs: far above chance (0.1)
    with np.load(tmp_path / "params.npz") as f:
        assert f["arr_0"].shape == (32, 1, 3, 3)


def test_cnn_model_needs_square_images():
    with pytest.raises(cli.CLIError, match="square images; inputs have 10 features"):
        cli.build_cnn((None, 10))
