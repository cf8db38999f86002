"""Native CPU kernels of the LE-SDE network (``csrc/simpleconv.cpp``): the one-sample SGD step of
every trial and the convolutional features of the validation pass.

Compiled with the system C++ compiler through :mod:`torch.utils.cpp_extension` (``-O3
-march=native``). ``make setup`` builds them (``python -m traindyn.lesde.kernels``); an edited
source is rebuilt at the next use, under cpp_extension's lock, so concurrent jobs wait instead of
racing. They are optional: without a compiler, or when the build fails, :func:`available` is
False (:func:`unavailable_reason` says why) and the trainer runs the torch code instead; a failed
build is recorded (``failed.json``) so later jobs do not retry it until the source or the
compiler changes. The build directory is keyed by the Python and torch versions and this CPU's
instruction-set flags: a shared checkout on a cluster never loads a binary built for another
node's CPU. The source is part of every dependent step's code closure
(:mod:`traindyn.codedeps`), so editing it reruns those steps and invalidates their resumable
state.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
from functools import lru_cache
from pathlib import Path

import torch

from ..atomic import atomic_path
from .model import param_shapes

NATIVE_SOURCES = ("csrc/simpleconv.cpp",)
HERE = Path(__file__).resolve().parent
FLAGS = ("-O3", "-march=native")


def _cpu_key() -> str:
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    text = (f"{platform.machine()} python {sys.version_info[:2]} torch {torch.__version__} "
            f"{' '.join(FLAGS)} {flags}")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build_dir() -> Path:
    return HERE.parents[2] / "build" / "torch_extensions" / _cpu_key()


class KernelsUnavailable(RuntimeError):
    """The native kernels cannot be built or loaded here (the torch path runs instead)."""


def compiler() -> str | None:
    """The C++ compiler cpp_extension would use ($CXX, else c++), or None when absent."""
    return shutil.which(os.environ.get("CXX") or "c++")


def _source_hash() -> str:
    h = hashlib.sha256(" ".join(FLAGS).encode())
    for src in NATIVE_SOURCES:
        h.update(b"\0" + (HERE / src).read_bytes())
    return h.hexdigest()


def _import(record: dict):
    spec = importlib.util.spec_from_file_location(record["name"], record["library"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=None)
def native():
    """The compiled module (built first if absent or stale); :class:`KernelsUnavailable` when it
    cannot be."""
    path = build_dir()
    stamp, failed = path / "built.json", path / "failed.json"
    digest = _source_hash()
    try:  # the common case: built from these sources, import it directly (no build tools)
        record = json.loads(stamp.read_text())
        if record["sources"] == digest and Path(record["library"]).is_file():
            return _import(record)
    except (OSError, ValueError, KeyError, ImportError):
        pass
    cxx = compiler()
    if cxx is None:
        raise KernelsUnavailable(f"no C++ compiler ({os.environ.get('CXX') or 'c++'} is not on "
                                 "PATH; set CXX to name another)")
    try:  # a build that failed with these sources and this compiler is not retried by every job
        record = json.loads(failed.read_text())
        if (record["sources"], record["compiler"]) == (digest, cxx):
            raise KernelsUnavailable(record["reason"])
    except (OSError, ValueError, KeyError):
        pass
    # importing cpp_extension warns that no CUDA runtime is found: irrelevant to a CPU build
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    from torch.utils import cpp_extension

    path.mkdir(parents=True, exist_ok=True)
    # ninja may be the one installed in this environment, next to its interpreter
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])
    try:
        module = cpp_extension.load("traindyn_simpleconv",
                                    [str(HERE / s) for s in NATIVE_SOURCES],
                                    extra_cflags=list(FLAGS), build_directory=str(path),
                                    verbose=False)
    except Exception as err:  # compiler errors, a missing ninja, a broken toolchain
        log = path / "build-error.log"
        log.write_text(f"compiler: {cxx}\n{err}\n")
        reason = f"the build with {cxx} failed (compiler output in {log})"
        write = {"sources": digest, "compiler": cxx, "reason": reason}
        with atomic_path(failed) as tmp:
            Path(tmp).write_text(json.dumps(write))
        raise KernelsUnavailable(reason) from err
    failed.unlink(missing_ok=True)
    with atomic_path(stamp) as tmp:
        Path(tmp).write_text(json.dumps({"sources": digest, "library": module.__file__,
                                         "name": module.__name__}))
    return module


@lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """None when the kernels load (building them first if needed), else why they cannot (asked
    once per process)."""
    try:
        native()
    except KernelsUnavailable as err:
        return str(err)
    return None


def available() -> bool:
    return unavailable_reason() is None


ORDER = tuple(param_shapes(1, 1))  # the parameter order the kernels take


def _flat(params: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    return [params[name] for name in ORDER]


def sgd_step(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, lr: float):
    """In-place one-sample SGD of every trial (as :func:`traindyn.lesde.model.sgd_step`):
    pre-update logits (M, K) and losses (M,)."""
    return tuple(native().sgd_step(_flat(params), x, y, lr, torch.get_num_threads()))


def shared_features(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Conv features (M, N, 400) of shared images x (N, C, 32, 32) for every trial."""
    return native().shared_features(_flat(params), x, torch.get_num_threads())


if __name__ == "__main__":  # make setup: build now, not inside the first job; never fails
    (build_dir() / "failed.json").unlink(missing_ok=True)  # an explicit build tries again
    why = unavailable_reason()
    if why is None:
        print(f"traindyn: LE-SDE native CPU kernels built in {build_dir()}", file=sys.stderr)
    else:
        print(f"traindyn: LE-SDE native CPU kernels not built: {why}; LE-SDE jobs on a CPU will "
              "run the torch path (same results to 1e-12, about 3x slower)", file=sys.stderr)
