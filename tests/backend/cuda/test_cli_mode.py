"""``symnet train --mode cuda`` is accepted and reaches the CUDA backend."""
from symnet.cli import build_parser


def test_train_accepts_mode_cuda():
    args = build_parser().parse_args(["train", "--mode", "cuda", "--epochs", "1"])
    assert args.mode == "cuda"
