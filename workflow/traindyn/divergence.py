"""Weight divergence between two training copies (the SI paper's metric), shared by the PDE track
(Figure 4 right) and the deep-network track (Figure 2), and usable on any two models."""

from __future__ import annotations

import numpy as np

__all__ = ["model_divergence", "relative_l1_divergence"]


def relative_l1_divergence(a: np.ndarray, b: np.ndarray, axis=None) -> np.ndarray:
    """2 * mean(|a - b| / (|a| + |b|)), in [0, 2]; entries where both are 0 count as 0 (not NaN).

    ``axis`` selects the weight axes averaged over (default: all), so a batch of copies or a time
    series of snapshots is reduced in one call.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.abs(a - b)
    den = np.abs(a) + np.abs(b)
    ratio = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)
    return 2.0 * ratio.mean(axis=axis)


def forward_window_mean(x: np.ndarray, window: int) -> np.ndarray:
    """out[i] = mean(x[i : i + window]) for every full window (len(x) - window + 1 values)."""
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= len(x):
        raise ValueError(f"window {window} must be between 1 and the series length {len(x)}")
    c = np.concatenate([[0.0], np.cumsum(x)])
    return (c[window:] - c[:-window]) / window


def model_divergence(model_a, model_b, parameter: str | None = None) -> float:
    """The divergence of two models of the same architecture (``torch.nn.Module``s): of one named
    parameter (e.g. ``"layer2.0.conv1.weight"``), or of all parameters taken together."""
    a, b = dict(model_a.named_parameters()), dict(model_b.named_parameters())
    if a.keys() != b.keys():
        raise ValueError("the two models have different parameters")
    names = [parameter] if parameter is not None else list(a)
    missing = [n for n in names if n not in a]
    if missing:
        raise KeyError(f"no parameter {missing[0]!r}; the models have {', '.join(a)}")

    def flat(params):
        return np.concatenate([params[n].detach().double().cpu().numpy().ravel() for n in names])

    return float(relative_l1_divergence(flat(a), flat(b)))
