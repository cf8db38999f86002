"""The LE-SDE track: trainers, logs, summaries, estimators. :class:`LogWriter`
(``traindyn.lesde.LogWriter``) is loaded on first use, so importing the package does no work;
library modules import :mod:`.writer` directly, so their code inputs name it."""

import importlib

__all__ = ["LogWriter"]


def __getattr__(name: str):
    if name == "LogWriter":
        return importlib.import_module(".writer", __name__).LogWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
