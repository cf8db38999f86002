import warnings

import numpy as np
import pytest

from traindyn.pde import heat


def test_tent_initial_condition():
    u0 = heat.tent(31)
    assert u0[0] == u0[30] == 0.0
    assert u0[15] == pytest.approx(1.5)
    assert u0[14] == pytest.approx(1.4) and u0[16] == pytest.approx(1.4)


def test_stencil_eigenvalues_match_closed_form():
    lam = heat.stencil_eigenvalues(31)
    k = np.arange(1, 30)
    np.testing.assert_allclose(lam, 4 * np.sin(k * np.pi / 60) ** 2, rtol=1e-12)


def test_bounds():
    assert heat.von_neumann_bound() == pytest.approx(0.5, abs=1e-12)
    assert heat.dirichlet_bound(31) == pytest.approx(0.501373, abs=1e-6)
    # more points: the Dirichlet bound approaches the von Neumann one from above
    assert 0.5 < heat.dirichlet_bound(301) < heat.dirichlet_bound(31)


def test_stable_and_unstable_runs_match_the_papers_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow must not spam warnings
        _, max_abs = heat.simulate(heat.tent(31), np.array([0.4, 0.8]), 1000)
    # authors' snapshot index n = state after n+1 updates
    assert max_abs[0, 3] == pytest.approx(1.3752, abs=1e-4)
    assert max_abs[0, 251] == pytest.approx(0.4041, abs=1e-4)
    assert max_abs[1, 6] == pytest.approx(2.355, abs=1e-3)
    first = heat.first_nonfinite(max_abs)
    assert first[0] == -1
    assert first[1] == 912
    assert np.all(np.diff(max_abs[0]) <= 1e-15)  # stable run decays monotonically


def test_measured_growth_matches_spectral_radius_and_crosses_one_at_the_bound():
    dts = np.linspace(0.45, 0.55, 21)
    measured = heat.measured_growth(heat.tent(31), dts, 3000)
    exact = heat.spectral_radius(dts, 31)
    far = np.abs(dts - heat.dirichlet_bound(31)) > 0.01
    np.testing.assert_allclose(measured[far], exact[far], rtol=1e-3)
    assert heat.crossing(dts, measured) == pytest.approx(heat.dirichlet_bound(31), abs=0.005)


def test_crossing_is_nan_without_crossing():
    assert np.isnan(heat.crossing(np.arange(3.0), np.array([0.1, 0.2, 0.3])))


def test_diffusivity_and_grid_spacing_scale_the_bounds():
    """u_t = D u_xx on a grid of spacing dx: the bounds are the D = dx = 1 ones times dx^2 / D,
    and a run just above the scaled Dirichlet bound grows while one just below decays."""
    from traindyn.pde.heat import (dirichlet_bound, measured_growth, spectral_radius, tent,
                                   von_neumann_bound)

    d, dx = 2.0, 0.5
    assert von_neumann_bound(d, dx) == pytest.approx(dx**2 / (2 * d))
    assert dirichlet_bound(31, d, dx) == pytest.approx(dirichlet_bound(31) * dx**2 / d)
    bound = dirichlet_bound(31, d, dx)
    growth = measured_growth(tent(31), np.array([0.98 * bound, 1.02 * bound]), 4000, d, dx)
    assert growth[0] < 1 < growth[1]
    np.testing.assert_allclose(growth, spectral_radius(np.array([0.98, 1.02]) * bound, 31, d, dx),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="must be > 0"):
        von_neumann_bound(0.0)
