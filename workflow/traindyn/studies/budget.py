"""Runtime requests of a study's jobs: FLOPs counted from the model itself (torch's flop
counter on one batch, :mod:`traindyn.models.flops`) times the steps and images a job runs,
through the same cost model as the paper runs (:mod:`traindyn.budget`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..budget import estimate_seconds, request_minutes
from ..data.registry import facts
from .spec import shape


@lru_cache(maxsize=None)
def _flops(model: str, kwargs: tuple, channels: int, classes: int, size: tuple,
           batch: int) -> tuple[float, float]:
    """(one training step on ``batch`` images, one forward image) of the model."""
    from ..models.flops import forward_flops, step_flops
    from ..models.names import resolve_model

    net = resolve_model(model, dict(kwargs)).build(0)
    common = dict(channels=channels, image_size=size, n_classes=classes)
    counted = max(batch, 2)  # BatchNorm in training mode needs two images
    return (step_flops(net, batch=counted, **common) * batch / counted,
            forward_flops(net, batch=1, **common))


# Images per class of a split whose size only its files tell (a GeoMNIST cache read whole).
UNKNOWN_PER_CLASS = (5000, 1000)


def _images(study: Mapping[str, Any], classes: int) -> tuple[int, int]:
    """(training, test) images: the study's per-class counts, else the whole data set's."""
    d, f = study["data"], facts(study["data"]["name"])
    full = ([n // f.n_classes for n in f.split_sizes] if f.split_sizes and f.n_classes
            else UNKNOWN_PER_CLASS)
    return ((d["train_per_class"] or full[0]) * classes,
            (d["test_per_class"] or full[1]) * classes)


def job_cost(study: Mapping[str, Any], kind: str, trials: int = 0) -> tuple[float, int] | None:
    """(FLOPs, optimizer steps) of one copies job (``kind`` "copies": every k and the control,
    or "divisor": two copies and the control) or one trials job; None when the data's shape is
    only known from its files."""
    channels, classes, size = shape(study)
    if None in (channels, classes, size):
        return None
    model = study["model"]
    key = (model["name"], tuple(sorted(model["kwargs"].items())), channels, classes, tuple(size))
    n_train, n_test = _images(study, classes)
    if kind == "trials":
        les = study["lesde"]
        step, fwd = _flops(*key, les["batch"])
        evals = les["iterations"] // les["eval_every"] + 1
        per_eval = (les["eval_per_class"] * classes if les["eval_per_class"] else n_test)
        return trials * (les["iterations"] * step + evals * per_eval * fwd), les["iterations"]
    t = study["train"]
    copies = (len(study["instability"]["ks"]) if kind == "copies" else 2) + 1
    step, fwd = _flops(*key, t["batch"])
    steps = t["epochs"] * math.ceil(n_train / t["batch"])
    return copies * (steps * step + t["epochs"] * n_test * fwd), steps


def minutes(study: Mapping[str, Any], kind: str, budget: Mapping[str, Any],
            trials: int = 0) -> int:
    """The runtime a study job asks for (the budget's generic torch rates, track ``resnet``)."""
    cost = job_cost(study, kind, trials)
    if cost is None:
        return int(budget["min_minutes"])
    t = study["train"]
    seconds = estimate_seconds(*cost, "resnet", t["gpu"] > 0, t["dtype"], budget)
    return request_minutes(seconds, budget)
