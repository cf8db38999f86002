"""The SI deep-network track: perturbed SGD, ResNet copies, the Table 1 and Figure 2 runs, and
:func:`train_copies` for any model (``traindyn.instab.train_copies``, loaded on first use so
that importing the package does no work; library modules import :mod:`.copies` directly, so
their code inputs name it)."""

import importlib

__all__ = ["train_copies"]


def __getattr__(name: str):
    if name == "train_copies":
        return importlib.import_module(".copies", __name__).train_copies
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
