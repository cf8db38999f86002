"""Run one traindyn library function for a Snakemake rule.

``params.step`` names ``module:function`` inside the traindyn package; the rule's named inputs
(except ``code``, which only tracks library sources), named outputs and ``params.kwargs`` become
keyword arguments. Everything the step prints goes to the rule's log file.
"""

import importlib
import os
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

sm = snakemake  # noqa: F821 -- injected by Snakemake's script directive
# The library sits beside this script; importable even in an environment that did not install it.
sys.path.insert(0, str(Path(sm.scriptdir).parent))
# Numeric libraries read these at import: keep each job inside the cores Snakemake gave it.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(sm.threads)
module, func = sm.params.step.split(":")
kwargs = {k: v for k, v in sm.input.items() if k != "code"}
kwargs.update(sm.output.items())
kwargs.update(sm.params.kwargs)
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    try:
        getattr(importlib.import_module(f"traindyn.{module}"), func)(**kwargs)
    except BaseException:
        traceback.print_exc()  # into the rule's log, not only Snakemake's console
        raise
