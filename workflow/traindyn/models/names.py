"""``"module:callable"`` plus keyword arguments -> a :class:`ModelFactory`.

The module part is one of
* a built-in name (``simpleconv``, ``cifar_resnet``: :mod:`.builtin`), written without a colon;
* a path to a ``.py`` file (``models/net.py:Net``, relative to the working directory);
* a module in the working directory (``my_model:Net`` for ``./my_model.py``), loaded from that
  file;
* any importable module (``torchvision.models:resnet18``).

A user's own file is loaded under a name of its own (a module ``my_model`` elsewhere on the path
does not shadow it), and :attr:`ModelFactory.files` lists it with the local files it imports, so
a pipeline can rerun exactly the jobs of a study whose model file was edited.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = ["ModelError", "ModelFactory", "resolve_model"]

BUILTIN = {"simpleconv": "simple_conv", "cifar_resnet": "cifar_resnet"}


class ModelError(ValueError):
    """A model spec that cannot give a usable model; the message names the config key."""


@dataclass(frozen=True)
class ModelFactory:
    name: str  # as written, e.g. "torchvision.models:resnet18"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    fn: Callable[..., Any] = None
    files: tuple[str, ...] = ()  # source files of a user's model (absolute paths)

    def __call__(self) -> torch.nn.Module:
        return self.fn(**self.kwargs)

    def build(self, seed: int) -> torch.nn.Module:
        """The model initialized from ``seed``: torch's CPU generator is seeded for the call and
        restored afterwards, so the caller's random state is left as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self()

    @property
    def copies_layout(self):
        """A built-in network's own layout for k perturbed copies (or None): ``layout(ks, seed,
        dtype, device)`` -> a model with ``copies`` and logits (C, B, K)."""
        layout = getattr(self.fn, "copies", None)
        return None if layout is None else (
            lambda ks, seed, dtype, device: layout(ks, seed, dtype, device, **self.kwargs))


def as_factory(model: "ModelFactory | Callable[[], torch.nn.Module]") -> ModelFactory:
    """A factory as it is, or any zero-argument callable returning a module as one."""
    if isinstance(model, ModelFactory):
        return model
    return ModelFactory(getattr(model, "__name__", type(model).__name__), {}, model)


def _local_imports(path: Path, seen: set[Path]) -> None:
    """``path`` and, recursively, the modules it imports that are files beside it."""
    if path in seen:
        return
    seen.add(path)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                 and not node.level else [])
        for name in names:
            for cand in (path.parent / f"{name.replace('.', '/')}.py",
                         path.parent / name.replace(".", "/") / "__init__.py"):
                if cand.is_file():
                    _local_imports(cand.resolve(), seen)


def _load_file(path: Path):
    """Execute a user's file as a module of its own (its folder importable while it loads)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    modname = f"traindyn_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module


def _user_file(module: str, workdir: Path) -> Path | None:
    if module.endswith(".py"):
        path = Path(module)
        return (path if path.is_absolute() else workdir / path).resolve()
    local = workdir / f"{module.replace('.', '/')}.py"
    return local.resolve() if "." not in module and local.is_file() else None


# Packages whose functions build networks (torchvision.models.resnet18, ...). Any other function
# is called only when defined in the user's own model file.
MODEL_PACKAGES = ("torchvision.models",)


def _check_builder(fn: Any, name: str, key: str, user_module: Any) -> None:
    """Refuse, before it is ever called, a callable that is not a network builder: a config
    value must not be able to name ``os:system`` and have a dry run call it. Allowed: a class
    derived from torch.nn.Module, a function of :data:`MODEL_PACKAGES`, or a function defined in
    the user's model file (``user_module``, which is code the user runs: docs/studies.md)."""
    if isinstance(fn, type):
        if issubclass(fn, torch.nn.Module):
            return
        what = f"a class {fn.__module__}.{fn.__qualname__}, not a torch.nn.Module"
    elif isinstance(fn, types.FunctionType):
        origin = fn.__module__ or ""
        if user_module is not None and origin == user_module.__name__:
            return
        if any(origin == p or origin.startswith(p + ".") for p in MODEL_PACKAGES):
            return
        what = (f"a function {fn.__qualname__} of {origin}; only functions defined in the model "
                f"file itself or in {', '.join(MODEL_PACKAGES)} are called")
    else:
        what = f"a {type(fn).__name__}, not a class or a function"
    raise ModelError(f"{key}: {name!r} is not a network builder ({what}), so it is never "
                     "called. A model names a "
                     "torch.nn.Module subclass or a function that builds one, e.g. "
                     "torchvision.models:resnet18, my_model.py:Net")


def resolve_model(name: str, kwargs: Mapping[str, Any] | None = None, *, key: str = "model",
                  workdir: str | Path | None = None) -> ModelFactory:
    """The factory of ``name`` with ``kwargs``; an import failure, a missing attribute or a
    non-callable is a :class:`ModelError` naming ``key`` (and the import error)."""
    kwargs = dict(kwargs or {})
    if name in BUILTIN:
        from . import builtin

        return ModelFactory(name, kwargs, getattr(builtin, BUILTIN[name]))
    if ":" not in name:
        raise ModelError(f"{key}: {name!r} is neither a built-in network ({', '.join(BUILTIN)}) "
                         "nor 'module:callable' (e.g. torchvision.models:resnet18, "
                         "my_model.py:Net)")
    module_name, attr = name.rsplit(":", 1)
    workdir = Path(workdir or Path.cwd())
    path = _user_file(module_name, workdir)
    try:
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        module = _load_file(path) if path is not None else importlib.import_module(module_name)
    except Exception as err:  # the user's code may raise anything while it loads
        raise ModelError(f"{key}: cannot import {module_name!r} for model {name!r}: "
                         f"{type(err).__name__}: {err}") from err
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
    if not callable(fn):
        raise ModelError(f"{key}: {module_name!r} has no callable {attr!r} (model {name!r})")
    _check_builder(fn, name, key, module if path is not None else None)
    files: set[Path] = set()
    if path is not None:
        _local_imports(path, files)
    return ModelFactory(name, kwargs, fn, tuple(sorted(str(f) for f in files)))


def model_files(name: str, workdir: str | Path | None = None) -> list[str]:
    """The source files a model spec is read from: a user's file and the local files it imports
    (empty for built-in networks, which are library code, and for installed packages). Read from
    the source, without importing it."""
    if name in BUILTIN or ":" not in name:
        return []
    path = _user_file(name.rsplit(":", 1)[0], Path(workdir or Path.cwd()))
    if path is None or not path.is_file():
        return []
    files: set[Path] = set()
    _local_imports(path, files)
    return sorted(str(f) for f in files)
