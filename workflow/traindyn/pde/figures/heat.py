"""SI Figure 1: explicit Euler on the heat equation, stable vs unstable time step, and the
stability bound computed two ways. Claims H1-H3."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...atomic import load_npz
from ...claims import SELF_CHECK, Claim, ClaimSet, write_claims
from ..heat import crossing
from ...plots.style import plt, save_figure

# Authors' snapshot indices n: heat.py snapshots after update n, i.e. after n+1 updates.
H1_INDICES = (2, 5, 10, 250, 500, 2000)
H1_VALUES = (1.3752, 1.3263, 1.2639, 0.4041, 0.1348, 0.0002)


def _panel_index(dts: np.ndarray, dt: float) -> int | None:
    hits = np.flatnonzero(np.isclose(dts, dt))
    return int(hits[0]) if hits.size else None


def heat_stats(dts: np.ndarray, max_abs: np.ndarray, first_nonfinite: np.ndarray,
               dirichlet: float, von_neumann: float, sweep_dts: np.ndarray,
               sweep_growth: np.ndarray) -> dict:
    """The numbers claims H1-H3 read; None where the run did not produce them."""
    n_steps = max_abs.shape[1] - 1
    stable, unstable = _panel_index(dts, 0.4), _panel_index(dts, 0.8)
    h1 = {n: (float(max_abs[stable, n + 1]) if stable is not None and n + 1 <= n_steps else None)
          for n in H1_INDICES}
    first = None if unstable is None else int(first_nonfinite[unstable])
    return dict(h1=h1, steps=n_steps,
                h2a=float(max_abs[unstable, 6]) if unstable is not None and n_steps >= 6 else None,
                unstable_run=unstable is not None,
                h2b=None if first is None or first < 0 else first - 1,  # snapshot index
                dirichlet=float(dirichlet), von_neumann=float(von_neumann),
                crossing=crossing(sweep_dts, sweep_growth),
                sweep_step=float(np.diff(sweep_dts).max()))


def heat_claims(st: dict) -> list[Claim]:
    cs = ClaimSet("SI", "Figure 1", "SI Fig. 1 (authors' heat.py values)", scale="paper")
    for n, want in zip(H1_INDICES, H1_VALUES):
        cid = f"H1[n={n}]"
        statement = f"dt=0.4: max|u| at authors' snapshot index {n} (after {n + 1} updates)"
        if st["h1"][n] is None:
            cs.not_applicable(cid, statement, want,
                              "needs dt=0.4 in heat.panels and heat.max_steps >= 2001")
        else:
            cs.close(cid, statement, st["h1"][n], want, atol=1e-4)
    statement = "dt=0.8: max|u| at snapshot index 5 (after 6 updates)"
    if st["h2a"] is None:
        cs.not_applicable("H2a", statement, 2.355, "needs dt=0.8 in heat.panels")
    else:
        cs.close("H2a", statement, st["h2a"], 2.355, atol=1e-3)
    statement = "dt=0.8: first non-finite snapshot index (updates - 1)"
    if st["h2b"] is not None:
        cs.close("H2b", statement, st["h2b"], 911, atol=2)
    elif st["unstable_run"] and st["steps"] >= 914:
        cs.holds("H2b", statement, False, f"finite through {st['steps']} updates", 911, "abs 2",
                 reason="the unstable run never blew up")
    else:
        cs.not_applicable("H2b", statement, 911,
                          "needs dt=0.8 in heat.panels and heat.max_steps >= 914")
    cs.close("H3a", "exact stability bound 2/lambda_max for the 29 free points",
             st["dirichlet"], 0.501373, atol=1e-5, kind=SELF_CHECK,
             source="derivation (spectrum of the 29-point Dirichlet stencil)")
    cs.close("H3b", "von Neumann (periodic) bound", st["von_neumann"], 0.5, atol=1e-12,
             kind=SELF_CHECK, source="derivation (von Neumann analysis)")
    cs.close("H3c", "measured growth factor of max|u| crosses 1 at the exact bound",
             st["crossing"], 0.501373, atol=st["sweep_step"],
             source="derivation; tolerance = one sweep step")
    return cs.claims


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
    sim = load_npz(sim_npz)
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
    write_claims(claims, heat_claims(heat_stats(
        dts, max_abs, nonfinite, sim["dirichlet"], sim["von_neumann"], sim["sweep_dts"],
        sim["sweep_growth"])))
