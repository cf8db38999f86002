"""SI Figure 1: explicit Euler on the heat equation, stable vs unstable time step, and the
stability bound computed two ways. Claims H1-H3 (notes §5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..claims import ClaimSet
from ..pde.heat import crossing
from ..plots.style import plt, save_figure

# Authors' snapshot indices n: heat.py snapshots after update n, i.e. after n+1 updates.
H1_INDICES = (2, 5, 10, 250, 500, 2000)
H1_VALUES = (1.3752, 1.3263, 1.2639, 0.4041, 0.1348, 0.0002)


def _panel_index(dts: np.ndarray, dt: float) -> int | None:
    hits = np.flatnonzero(np.isclose(dts, dt))
    return int(hits[0]) if hits.size else None


def heat_claims(sim: dict) -> ClaimSet:
    dts, max_abs, nonfinite = sim["dts"], sim["max_abs"], sim["first_nonfinite"]
    n_steps = max_abs.shape[1] - 1
    cs = ClaimSet("SI", "Figure 1", "notes §2 Figure 1, §5 H1-H3")
    stable = _panel_index(dts, 0.4)
    for n, want in zip(H1_INDICES, H1_VALUES):
        statement = f"dt=0.4: max|u| at authors' snapshot index {n} (after {n + 1} updates)"
        if stable is None or n + 1 > n_steps:
            cs.not_applicable(f"H1[n={n}]", statement, want,
                              "needs dt=0.4 in heat.panels and heat.max_steps >= 2001")
        else:
            cs.close(f"H1[n={n}]", statement, max_abs[stable, n + 1], want, atol=1e-4)
    unstable = _panel_index(dts, 0.8)
    statement_a = "dt=0.8: max|u| at snapshot index 5 (after 6 updates)"
    statement_b = "dt=0.8: first non-finite snapshot index (updates - 1)"
    if unstable is None or n_steps < 920:
        reason = "needs dt=0.8 in heat.panels and heat.max_steps >= 920"
        cs.not_applicable("H2a", statement_a, 2.355, reason)
        cs.not_applicable("H2b", statement_b, 911, reason)
    else:
        cs.close("H2a", statement_a, max_abs[unstable, 6], 2.355, atol=1e-3)
        first = int(nonfinite[unstable])
        cs.close("H2b", statement_b, first - 1 if first >= 0 else None, 911, atol=2)
    cs.close("H3a", "exact stability bound 2/lambda_max for the 29 free points",
             float(sim["dirichlet"]), 0.501373, atol=1e-5)
    cs.close("H3b", "von Neumann (periodic) bound", float(sim["von_neumann"]), 0.5, atol=1e-12)
    measured = crossing(sim["sweep_dts"], sim["sweep_growth"])
    step = float(np.diff(sim["sweep_dts"]).max())
    cs.close("H3c", "measured growth factor of max|u| crosses 1 at the exact bound",
             measured, float(sim["dirichlet"]), atol=step,
             source="derivation (§3.1); tolerance = one sweep step")
    return cs


def _profiles(ax: plt.Axes, states: np.ndarray, dt: float, times: Sequence[float],
              ref: float) -> None:
    x = np.arange(states.shape[1])
    ax.plot(x, states[0], color="k", lw=1.2, label="t = 0")
    colors = plt.cm.viridis(np.linspace(0.1, 0.9, len(times)))
    for t, color in zip(times, colors):
        s = int(round(t / dt))
        if s >= states.shape[0]:
            ax.plot([], [], " ", label=f"t = {s * dt:g}: beyond the run")
            continue
        u = states[s]
        peak = np.max(np.abs(u))
        if not np.isfinite(peak):
            ax.plot([], [], " ", label=f"t = {s * dt:g}: non-finite (overflow)")
            continue
        if peak > 10 * ref:
            ax.plot([], [], " ", label=f"t = {s * dt:g}: max|u| = {peak:.2g} (off scale)")
            continue
        ax.plot(x, u, color=color, lw=1, label=f"t = {s * dt:g} ({s} updates)")
    ax.set(xlabel="grid point i", ylabel="u(i, t)", title=f"dt = {dt:g}")
    ax.set_ylim(-0.15 - 0.2 * ref, 1.6 * ref + 0.1)
    ax.legend(loc="upper right")


def build_heat_figure(sim_npz: str, pdf: str, png: str, claims: str, *,
                      snapshot_times: Sequence[float]) -> None:
    sim = dict(np.load(sim_npz))
    dts, states, max_abs = sim["dts"], sim["states"], sim["max_abs"]
    nonfinite = sim["first_nonfinite"]
    fig, axes = plt.subplots(1, len(dts) + 2, figsize=(4.2 * (len(dts) + 2), 3.6))
    ref = float(np.max(np.abs(states[0, 0])))
    for ax, dt, st in zip(axes, dts, states):
        _profiles(ax, st, float(dt), snapshot_times, ref)
    ax = axes[len(dts)]
    for d, dt in enumerate(dts):
        # Up to the first non-finite update; values past 1e100 only squash the log axis.
        too_big = np.flatnonzero(~(max_abs[d] <= 1e100))
        stop = too_big[0] if too_big.size else max_abs.shape[1]
        t = np.arange(stop) * dt
        label = f"dt = {dt:g}" + (f" (non-finite after {nonfinite[d]} updates)" if nonfinite[d] >= 0 else "")
        ax.semilogy(t[1:], max_abs[d, 1:stop], label=label)
    shown = max_abs[np.isfinite(max_abs) & (max_abs > 0) & (max_abs <= 1e100)]
    ax.set_ylim(shown.min() / 3, shown.max() * 3)
    ax.set(xlabel="time t = updates x dt", ylabel="max |u|", title="max-norm (drawn up to 1e100)")
    ax.legend()
    ax = axes[-1]
    ax.plot(sim["sweep_dts"], sim["sweep_growth"], "o", ms=3, label="measured (iterated scheme)")
    ax.plot(sim["sweep_dts"], sim["sweep_exact"], "-", lw=1, label="exact spectral radius")
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.axvline(float(sim["von_neumann"]), color="C2", ls=":", label="von Neumann bound 1/2")
    ax.axvline(float(sim["dirichlet"]), color="C3", ls="--",
               label=f"Dirichlet bound {float(sim['dirichlet']):.6f}")
    ax.set(xlabel="time step dt", ylabel="growth factor of max|u| per update",
           title="stability vs dt")
    ax.legend()
    fig.suptitle("SI Fig. 1 — explicit Euler for u_t = u_xx on a 31-point tent (ends fixed)")
    save_figure(fig, pdf, png)
    heat_claims(sim).write(claims)
