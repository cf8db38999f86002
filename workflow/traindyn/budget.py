"""Compute budgets of the training jobs, derived from a cost model rather than guessed.

A job's estimate is its floating-point work (forward FLOPs of the network per image, times the
images it trains on and evaluates, times three for a training step) divided by the device's
sustained rate, plus a fixed overhead per optimizer step (kernel launches on a GPU); the runtime a
job asks the scheduler for is the estimate times a safety factor, never below a floor. The rates
are config keys (``budget``): calibrate them with ``make gpu-smoke`` on your GPU nodes. A
partition's time limit (``cluster.max_runtime_minutes``) caps the request; a longer job stops
before the cap with its state saved (:mod:`traindyn.deadline`) and needs as many resubmissions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# One-sample SimpleConv training step (1 channel, K = 3): forward + conv1 weight gradient + conv2
# weight and input gradients + FC weight and input gradients = 416k + 118k + 480k + 117k MACs.
SIMPLECONV_STEP_FLOPS = 2.26e6
TRAIN_FACTOR = 3  # forward + backward (two products per forward one) per training image


def simpleconv_flops(channels: int, n_classes: int) -> float:
    """Forward FLOPs of the LE-SDE SimpleConv on one 32x32 image (multiply-adds count two)."""
    conv1 = 2 * channels * 25 * 6 * 28 * 28
    conv2 = 2 * 6 * 25 * 16 * 10 * 10
    fc = 2 * (400 * 120 + 120 * 84 + 84 * n_classes)
    return float(conv1 + conv2 + fc)


def resnet_flops(depth: int, width: int, channels: int, n_classes: int = 10,
                 shortcut: str = "B", side: int = 32) -> float:
    """Forward FLOPs of the CIFAR ResNet (depth 6n+2) on one image."""
    n = (depth - 2) // 6
    flops = 2 * channels * width * 9 * side * side  # stem
    cin = width
    for stage, cout in enumerate((width, 2 * width, 4 * width)):
        hw = (side // 2**stage) ** 2
        # block 0 maps cin -> cout, the other n - 1 blocks cout -> cout (closed form: a depth
        # typo such as 1e12 must not loop over its blocks)
        flops += 2 * 9 * hw * (cin * cout + cout * cout) + (n - 1) * 4 * 9 * hw * cout * cout
        if cin != cout and shortcut == "B":
            flops += 2 * cin * cout * hw
        cin = cout
    return float(flops + 2 * 4 * width * n_classes)


def lesde_job_cost(channels: int, n_classes: int, iterations: int, eval_every: int,
                   val_images: int, n_trials: int) -> tuple[float, int]:
    """(FLOPs, optimizer steps) of one LE-SDE training job of ``n_trials`` trials."""
    fwd = simpleconv_flops(channels, n_classes)
    n_evals = iterations // eval_every + 1
    flops = n_trials * fwd * (TRAIN_FACTOR * iterations + n_evals * val_images)
    return flops, iterations + n_evals


def resnet_job_cost(network: Mapping[str, Any], channels: int, copies: int, train_images: int,
                    test_images: int, epochs: int, batch: int) -> tuple[float, int]:
    """(FLOPs, optimizer steps) of ``copies`` ResNets trained for ``epochs`` epochs."""
    fwd = resnet_flops(network["depth"], network["width"], channels,
                       shortcut=network.get("shortcut", "B"))
    flops = copies * fwd * epochs * (TRAIN_FACTOR * train_images + test_images)
    return flops, epochs * math.ceil(train_images / batch)


def resnet_steps_cost(network: Mapping[str, Any], channels: int, copies: int, steps: int,
                      batch: int) -> tuple[float, int]:
    """(FLOPs, steps) of ``copies`` ResNets trained for ``steps`` minibatches (Figure 2)."""
    fwd = resnet_flops(network["depth"], network["width"], channels,
                       shortcut=network.get("shortcut", "B"))
    return copies * fwd * TRAIN_FACTOR * steps * batch, steps


def estimate_seconds(flops: float, steps: int, track: str, gpu: bool, dtype: str,
                     budget: Mapping[str, Any]) -> float:
    """Seconds of work on the device kind: FLOPs at the track's sustained rate (float64 slower
    by ``float64_factor``) plus the per-step launch overhead on a GPU."""
    rates = budget[track]
    rate = (rates["gpu_gflops"] if gpu else rates["cpu_gflops"]) * 1e9
    if dtype == "float64":
        rate /= budget["float64_factor"]
    overhead = budget["gpu_step_overhead_ms"] * 1e-3 if gpu else 0.0
    return flops / rate + steps * overhead


@dataclass(frozen=True)
class Work:
    """What a job computes, for the cost model: FLOPs and optimizer steps, at a track's rates
    (``budget.lesde`` or ``budget.resnet``), on a GPU or not, in a floating-point format."""
    flops: float
    steps: int
    track: str
    gpu: bool
    dtype: str

    def seconds(self, budget: Mapping[str, Any]) -> float:
        return estimate_seconds(self.flops, self.steps, self.track, self.gpu, self.dtype, budget)

    def minutes(self, budget: Mapping[str, Any]) -> int:
        """The runtime to ask the scheduler for (:func:`request_minutes`)."""
        return request_minutes(self.seconds(budget), budget)


def request_minutes(seconds: float, budget: Mapping[str, Any]) -> int:
    """The runtime to ask the scheduler for: the estimate times the safety factor, rounded up."""
    return max(int(budget["min_minutes"]), math.ceil(seconds * budget["safety"] / 60))


def capped(minutes: int, cap: int | None) -> int:
    """The request under the partition's limit (``cap`` minutes; None: no limit)."""
    return minutes if cap is None else min(minutes, cap)


def retries(minutes: int, cap: int | None) -> int | None:
    """Resubmissions for a job whose uncapped request is ``minutes``: one per further cap-long
    attempt its request needs, plus one spare for an ordinary failure (the profile's own
    ``retries: 1``). None without a cap: the profile's value applies."""
    if cap is None:
        return None
    return max(1, math.ceil(minutes / cap))
