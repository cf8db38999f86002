"""Which checkout's library a process runs.

Two checkouts may share one environment (its editable install points at one of them). The
Snakefile and the step runner put their own ``workflow/`` first on ``sys.path`` before importing
traindyn, so each plans and runs with its own code; this check makes a violation loud (a process
that imported traindyn earlier from elsewhere would plan with the wrong code inputs)."""

from __future__ import annotations

import os


def library_mismatch(package_file: str, library: str) -> str | None:
    """None when ``package_file`` (``traindyn.__file__``) lies under ``library`` (a checkout's
    ``workflow/``); otherwise the message to stop with."""
    lib = os.path.realpath(library) + os.sep
    if os.path.realpath(package_file).startswith(lib):
        return None
    return (f"traindyn was imported from {os.path.dirname(package_file)}, not from this "
            f"checkout's {lib}: start snakemake without importing traindyn first (the "
            "checkout's Snakefile and workflow/scripts/step.py import their own)")
