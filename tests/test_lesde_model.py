"""The batched LE-SDE network against the ordinary one-model network, and trial independence.
Its SGD step against torch.optim.SGD, beside the native kernel's: tests/test_lesde_kernels.py."""

import pytest
import torch

from traindyn.lesde.model import init_params, logits_per_trial, logits_shared, sgd_step
from traindyn.models.simpleconv import SimpleConv


def _params(m, channels=1, k=3, experiment="t"):
    return init_params(range(m), seed=0, experiment=experiment, channels=channels, n_classes=k)


@pytest.mark.parametrize("channels,k", [(1, 3), (3, 4)])
def test_forward_matches_reference_module(channels, k):
    params = _params(4, channels, k)
    refs = [SimpleConv(channels, k).double().load_trial(params, m) for m in range(4)]
    x = torch.randn(4, channels, 32, 32, dtype=torch.float64)
    per = logits_per_trial(params, x)
    xs = torch.randn(6, channels, 32, 32, dtype=torch.float64)
    shared = logits_shared(params, xs)
    for m, ref in enumerate(refs):
        torch.testing.assert_close(per[m], ref(x[m:m + 1])[0], rtol=0, atol=1e-13)
        torch.testing.assert_close(shared[m], ref(xs), rtol=0, atol=1e-13)


def test_parameter_count_and_default_init_range():
    params = _params(2)
    assert sum(p[0].numel() for p in params.values()) == 61111  # SimpleConv for 1 channel, 3 classes
    assert sum(p[0].numel() for p in _params(1, 3, 3).values()) == 61411
    bound = 400 ** -0.5
    assert params["fc1_w"].abs().max() <= bound and params["fc1_w"].abs().max() > 0.9 * bound
    assert not torch.equal(params["fc1_w"][0], params["fc1_w"][1])  # own generator per trial


@pytest.mark.parametrize("others", [1, 7])
def test_a_trials_training_is_bitwise_independent_of_its_batch(others):
    """Grouped convolutions and batched products keep each trial's arithmetic its own: a trial
    trained alone and inside a batch follows the identical float64 trajectory."""
    batch = init_params(range(others + 1), seed=0, experiment="t", channels=1, n_classes=3)
    alone = init_params([others], seed=0, experiment="t", channels=1, n_classes=3)
    assert torch.equal(batch["conv1_w"][others], alone["conv1_w"][0])
    rng = torch.Generator().manual_seed(1)
    for _ in range(25):
        x = torch.randn(others + 1, 1, 32, 32, dtype=torch.float64, generator=rng)
        y = torch.randint(0, 3, (others + 1,), generator=rng)
        lb, _ = sgd_step(batch, x, y, 0.05)
        la, _ = sgd_step(alone, x[others:], y[others:], 0.05)
        assert torch.equal(lb[others], la[0])
    for name in batch:
        assert torch.equal(batch[name][others], alone[name][0]), name
    # validation logits: the shared first convolution's matrix product is blocked by M, so these
    # agree to rounding (not bitwise)
    xs = torch.randn(5, 1, 32, 32, dtype=torch.float64, generator=rng)
    torch.testing.assert_close(logits_shared(batch, xs)[others], logits_shared(alone, xs)[0],
                               rtol=0, atol=1e-12)
