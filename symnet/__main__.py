"""``python -m symnet``: the ``symnet`` command line (see :mod:`symnet.cli`)."""
import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
