"""The LE-SDE network (LeNet-style "SimpleConv" of the authors' code) for M independent trials at once.

conv(C->6, 5x5) + ReLU + maxpool2, conv(6->16, 5x5) + ReLU + maxpool2, fc 400->120->84->K with
ReLU. Parameters are stacked along a leading trial axis; convolutions run as grouped convolutions
(one group per trial) and the fully connected layers as batched matrix products, so one call
trains or evaluates every trial. Initialization is PyTorch's default for Conv2d/Linear (weights
and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))), drawn per trial from its own generator. The
same network as one ordinary module: :class:`traindyn.models.simpleconv.SimpleConv`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..seeds import INIT, torch_generator


def param_shapes(channels: int, n_classes: int) -> dict[str, tuple[tuple[int, ...], int]]:
    """name -> (shape without the trial axis, fan_in of PyTorch's default initialization)."""
    c, k = channels, n_classes
    return {
        "conv1_w": ((6, c, 5, 5), c * 25), "conv1_b": ((6,), c * 25),
        "conv2_w": ((16, 6, 5, 5), 150), "conv2_b": ((16,), 150),
        "fc1_w": ((120, 400), 400), "fc1_b": ((120,), 400),
        "fc2_w": ((84, 120), 120), "fc2_b": ((84,), 120),
        "fc3_w": ((k, 84), 84), "fc3_b": ((k,), 84),
    }


def init_params(trials: Sequence[int], *, seed: int, experiment: str, channels: int,
                n_classes: int, dtype: torch.dtype = torch.float64,
                device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Stacked parameters of the given trials, each drawn from the trial's own generator."""
    shapes = param_shapes(channels, n_classes)
    per_trial = []
    for trial in trials:
        gen = torch_generator(seed, experiment, trial, INIT)
        params = {}
        for name, (shape, fan_in) in shapes.items():
            bound = fan_in ** -0.5
            u = torch.rand(shape, generator=gen, dtype=torch.float64)
            params[name] = (2 * u - 1) * bound
        per_trial.append(params)
    return {name: torch.stack([p[name] for p in per_trial]).to(device=device, dtype=dtype)
            for name in shapes}


def _pool(h: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(F.relu(h), 2)


def _conv_stack(params: dict[str, torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    """Second conv block on (N, M*6, 14, 14) -> (N, M, 400), one group per trial."""
    n, m = h.shape[0], params["conv2_w"].shape[0]
    w2 = params["conv2_w"].reshape(m * 16, 6, 5, 5)
    h = _pool(F.conv2d(h, w2, params["conv2_b"].reshape(-1), groups=m))
    return h.reshape(n, m, 400)  # per trial: (16, 5, 5) flattened channel-major (torch.flatten)


def head(params: dict[str, torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    """Fully connected layers on (M, N, 400) -> logits (M, N, K)."""
    h = F.relu(torch.baddbmm(params["fc1_b"][:, None], h, params["fc1_w"].transpose(1, 2)))
    h = F.relu(torch.baddbmm(params["fc2_b"][:, None], h, params["fc2_w"].transpose(1, 2)))
    return torch.baddbmm(params["fc3_b"][:, None], h, params["fc3_w"].transpose(1, 2))


def features_per_trial(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """x: (M, C, H, W), image m for trial m -> conv features (M, 400). Grouped convolutions: one
    group per trial, so every trial's arithmetic stays its own."""
    m = params["conv1_w"].shape[0]
    w1 = params["conv1_w"].reshape(m * 6, *params["conv1_w"].shape[2:])
    h = _pool(F.conv2d(x.reshape(1, -1, *x.shape[2:]), w1, params["conv1_b"].reshape(-1),
                       groups=m))
    return _conv_stack(params, h)[0]


def logits_per_trial(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """x: (M, C, H, W), image m for trial m -> logits (M, K)."""
    return head(params, features_per_trial(params, x)[:, None])[:, 0]


def logits_shared(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """x: (N, C, H, W), the same images for every trial -> logits (M, N, K). The first
    convolution applies all trials' filters to each image at once."""
    m = params["conv1_w"].shape[0]
    w1 = params["conv1_w"].reshape(m * 6, *params["conv1_w"].shape[2:])
    h = _pool(F.conv2d(x, w1, params["conv1_b"].reshape(-1)))
    return head(params, _conv_stack(params, h).transpose(0, 1))


def sgd_step(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
             lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One-sample SGD (momentum 0) for every trial: returns the pre-update logits (M, K) and the
    per-trial cross-entropy (M,). The update is p <- p - lr * grad, as torch.optim.SGD does.

    Autograd handles the convolutions and the loss; the fully connected layers are
    differentiated by hand because autograd forms their weight gradients as batched products
    with an inner dimension of 1, the slowest part of the step on CPU. Here they are the
    elementwise outer products delta x input: the same products, hence bit-for-bit the same
    gradients (tests/test_lesde_model.py compares with torch.optim.SGD), 1.2x faster per step."""
    conv = {k: v.detach().requires_grad_(True) for k, v in params.items() if k.startswith("conv")}
    features = features_per_trial(conv, x)  # (M, 400)
    with torch.no_grad():
        acts = [features.detach()[:, None]]  # inputs of fc1, fc2, fc3: (M, 1, width)
        for i in (1, 2):
            z = torch.baddbmm(params[f"fc{i}_b"][:, None], acts[-1],
                              params[f"fc{i}_w"].transpose(1, 2))
            acts.append(F.relu(z))
        logits = torch.baddbmm(params["fc3_b"][:, None], acts[-1],
                               params["fc3_w"].transpose(1, 2))[:, 0]
    logits.requires_grad_(True)
    losses = F.cross_entropy(logits, y, reduction="none")
    (delta,) = torch.autograd.grad(losses.sum(), [logits])
    with torch.no_grad():
        deltas = [delta[:, None]]  # output gradients of fc3, fc2, fc1: (M, 1, width)
        for i in (3, 2):  # through W^T and the ReLU (zero where the activation is zero)
            back = torch.bmm(deltas[0], params[f"fc{i}_w"])
            deltas.insert(0, torch.where(acts[i - 1] > 0, back, 0.0))
        d_features = torch.bmm(deltas[0], params["fc1_w"])[:, 0]
    conv_grads = torch.autograd.grad(features, list(conv.values()), d_features)
    with torch.no_grad():
        for name, g in zip(conv, conv_grads):
            params[name].add_(g, alpha=-lr)
        for i, (d, a) in enumerate(zip(deltas, acts), start=1):
            params[f"fc{i}_w"].add_(d.transpose(1, 2) * a, alpha=-lr)
            params[f"fc{i}_b"].add_(d[:, 0], alpha=-lr)
    return logits.detach(), losses.detach()


def __getattr__(name: str):
    """SimpleConv moved to :mod:`traindyn.models.simpleconv` (shared by both families); served
    from here with a DeprecationWarning for at least one release."""
    if name == "SimpleConv":
        from ..deprecation import warn_moved
        from ..models.simpleconv import SimpleConv

        warn_moved(f"{__name__}.SimpleConv", "traindyn.models.simpleconv.SimpleConv")
        return SimpleConv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
