"""Checks of a model spec against its data before any job: it imports, returns an
``nn.Module``, takes the data's input channels and gives one logit per class (one dummy forward
pass on two images). Every message names the config key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from .names import ModelError, ModelFactory, resolve_model

__all__ = ["model_errors"]


def _first_conv(model: torch.nn.Module):
    return next((m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)),
                None)


def built_model_errors(model: Any, spec: str, *, channels: int, n_classes: int,
                       image_size: Sequence[int], key: str = "model",
                       sample: torch.Tensor | None = None) -> list[str]:
    """Problems of a built model against data of ``channels`` x ``image_size`` images in
    ``n_classes`` classes (``sample``: two real images of the data, else zeros)."""
    if not isinstance(model, torch.nn.Module):
        return [f"{key}: {spec} returned {type(model).__name__}, not a torch.nn.Module"]
    conv = _first_conv(model)
    if conv is not None and getattr(conv, "groups", 1) == 1 and conv.in_channels != channels:
        return [f"{key}: the first convolution of {spec} takes {conv.in_channels} input "
                f"channels, the data have {channels} (set the model's input channels, or the "
                "data's channels: 1 or 3)"]
    shape = (2, channels, *image_size)
    try:
        param = next(model.parameters(), None)
        x = torch.zeros(shape, dtype=param.dtype if param is not None else torch.float32)
        if sample is not None:
            x = sample.to(x.dtype)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            out = model(x)
        model.train(was_training)
    except Exception as err:  # the user's forward may raise anything
        return [f"{key}: a forward pass of {spec} on a batch of shape {shape} failed: "
                f"{type(err).__name__}: {err}"]
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, n_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return [f"{key}: {spec} gives output {got} for a batch of 2 images; expected "
                f"(2, {n_classes}), one logit per class of the data (e.g. num_classes="
                f"{n_classes})"]
    return randomness_errors(model, x, spec, key)


def randomness_errors(model: torch.nn.Module, x: torch.Tensor, spec: str,
                      key: str = "model") -> list[str]:
    """Perturbed copies must draw the same random numbers (dropout masks) in every step; the
    pipeline shares torch's generators between them, so a training-mode forward must be a
    function of torch's generator state alone. Two forwards from one seeded state that differ
    mean randomness from elsewhere (numpy, Python's random, the clock), which no copy shares."""
    was_training = model.training
    model.train()
    outs = []
    try:
        for _ in range(2):
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                torch.manual_seed(0)
                outs.append(model(x))
    except Exception as err:
        return [f"{key}: a training-mode forward pass of {spec} on a batch of shape "
                f"{tuple(x.shape)} failed: {type(err).__name__}: {err}"]
    finally:
        model.train(was_training)
    if not torch.equal(outs[0], outs[1]):
        return [f"{key}: {spec} draws random numbers outside torch's generators in training "
                "mode (two forward passes from one torch seed differ: numpy, Python's random or "
                "another source); perturbed copies could not share them, so the instability "
                "analysis would measure that noise, not rounding. Use torch's random functions "
                "(nn.Dropout, torch.rand) in the model"]
    return []


def has_batchnorm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def model_errors(name: str, kwargs: Mapping[str, Any] | None = None, *, channels: int,
                 n_classes: int, image_size: Sequence[int], key: str = "model",
                 workdir: str | Path | None = None,
                 sample: torch.Tensor | None = None) -> list[str]:
    """Every problem of a model spec, one line each (empty when it is usable)."""
    try:
        factory = resolve_model(name, kwargs, key=key, workdir=workdir)
    except ModelError as err:
        return [str(err)]
    call = _call_text(factory)
    try:
        model = factory.build(0)
    except Exception as err:
        return [f"{key}: {call} raised {type(err).__name__}: {err}"]
    return built_model_errors(model, call, channels=channels, n_classes=n_classes,
                              image_size=image_size, key=key, sample=sample)


def _call_text(factory: ModelFactory) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in factory.kwargs.items())
    return f"{factory.name}({args})"


def check_model(name: str, kwargs: Mapping[str, Any] | None = None, **data) -> None:
    """:func:`model_errors` as a :class:`ModelError`."""
    errs = model_errors(name, kwargs, **data)
    if errs:
        raise ModelError("; ".join(errs))
