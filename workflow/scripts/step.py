"""Run one traindyn library function for a Snakemake rule.

``params.step`` names ``module:function`` inside the traindyn package; the rule's named inputs
(except ``code*``, which only track sources: the library's, a user's model files), named
outputs and ``params.kwargs`` become keyword arguments. Everything the step prints goes to the rule's log file.
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
# The threads the job computes with, set before numpy or torch is imported (they read these
# once). A rule whose numbers depend on the thread count (the reductions of BLAS, FFT and
# oneDNN kernels are split by thread) passes it as params.threads, from the config: the job gets
# exactly that many whatever --cores is, so its bytes do not depend on how Snakemake was started,
# and a new count is a parameter change (a rerun). Rules without it (thread-independent: the
# LE-SDE kernels, one-thread figure steps) run with the cores Snakemake gave them.
threads = dict(sm.params.items()).get("threads", sm.threads)
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(threads)
# Idle OpenMP threads sleep at once instead of spinning a while (unless the user chose
# otherwise): spinning threads take the cores from the job's own other threads and from other
# work on the machine (workflow/benchmarks/job_threads.py, docs/benchmarks.md: SI Table 1 8-10%
# faster idle and loaded, a study's 2-thread trials 39% faster loaded, LE-SDE unchanged).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# PDF files carry their creation time; a fixed one makes a figure's bytes a function of its data.
os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
# Imported from the checkout beside this script, or the job stops (never another checkout's code).
from traindyn.checkout import library_mismatch  # noqa: E402

_mismatch = library_mismatch(importlib.import_module("traindyn").__file__,
                             str(Path(sm.scriptdir).parent))
if _mismatch:
    sys.exit(_mismatch)
module, func = sm.params.step.split(":")
data = {k: v for k, v in sm.input.items() if not k.startswith("code")}
kwargs = {**data, **dict(sm.output.items()), **sm.params.kwargs}
code = [f for k, v in sm.input.items() if k.startswith("code")
        for f in ([v] if isinstance(v, str) else v)]
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    try:
        from traindyn.records import damaged_inputs, hashes, record_job

        # every input is the bytes its own job wrote, or the job stops naming it (never a
        # result built from a damaged file)
        files = hashes(f for v in data.values() for f in ([v] if isinstance(v, str) else v))
        damaged = damaged_inputs(files)
        if damaged:
            raise SystemExit("damaged input, not read:\n  " + "\n  ".join(damaged))
        getattr(importlib.import_module(f"traindyn.{module}"), func)(**kwargs)
        # what the job wrote, read and ran, for `make verify`
        record_job(sm.rule, list(sm.output), files, code)
    except BaseException:
        traceback.print_exc()  # into the rule's log, not only Snakemake's console
        raise
