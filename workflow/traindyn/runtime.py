"""Where and how training runs: the device (never a silent CPU fallback for a job that asked for
a GPU), floating-point formats by name, and the numerics switches (TF32 off, deterministic
kernels), set for the duration of one job and restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .devices import claim_gpus

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


class DeviceError(RuntimeError):
    """The job asked for a device this process cannot use."""


def torch_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r} (one of {', '.join(DTYPES)})")
    return DTYPES[name]


def _cuda_unusable() -> str:
    build = torch.version.cuda
    if build is None:
        return (f"this torch {torch.__version__} is a CPU-only build; install a CUDA build of "
                "torch on the GPU nodes")
    return (f"torch {torch.__version__} was built for CUDA {build}, and torch.cuda.is_available() "
            f"is False here: no GPU is visible (CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')}) or the NVIDIA driver is older "
            f"than CUDA {build} needs (check nvidia-smi)")


def resolve_device(device: str, gpus: int = 0, job: str = "") -> torch.device:
    """``auto`` -> CUDA if usable, else CPU; ``cuda`` or a job that asked the scheduler for GPUs
    (``gpus > 0``) fails at once when CUDA is unusable instead of running for days on the CPU.
    A job that asked for GPUs first takes its own from the machine's pool (:mod:`.devices`;
    ``job`` names it there), before CUDA starts."""
    claim_gpus(gpus, job)
    wants_gpu = device.startswith("cuda") or gpus > 0
    if wants_gpu and not torch.cuda.is_available():
        why = f"device {device!r}" + (f" with {gpus} GPU(s) requested" if gpus else "")
        raise DeviceError(f"this job asks for a GPU ({why}) but CUDA is not usable: "
                          f"{_cuda_unusable()}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" and gpus > 0:
        raise DeviceError(f"device 'cpu' with {gpus} GPU(s) requested: set device to cuda or auto")
    return torch.device(device)


@contextmanager
def numerics(deterministic: bool = True) -> Iterator[None]:
    """TF32 off (float32 means float32) and, if asked, deterministic kernels (bitwise-repeatable
    runs, null controls, resume = identical bytes) for the block; the previous settings return
    afterwards, so a caller's process is left as it was."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.utils.deterministic.fill_uninitialized_memory,
             torch.backends.cudnn.benchmark, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        # Deterministic mode also NaN-fills every new tensor (a debugging aid against reads of
        # uninitialized memory, which no kernel here does): a fifth of the CPU step time.
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, det, warn,
         torch.utils.deterministic.fill_uninitialized_memory, torch.backends.cudnn.benchmark,
         workspace) = saved
        torch.use_deterministic_algorithms(det, warn_only=warn)
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace
