"""Snakemake step: run the heat-equation panels and the dt sweep into one npz."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from ..atomic import save_npz
from ..provenance import provenance
from .heat import (dirichlet_bound, first_nonfinite, measured_growth, simulate, spectral_radius,
                   tent, von_neumann_bound)


def run_heat(out: str, *, n_points: int, panels: Sequence[float], max_steps: int,
             sweep: dict) -> None:
    u0 = tent(n_points)
    dts = np.asarray(panels, dtype=np.float64)
    states, max_abs = simulate(u0, dts, max_steps)
    sweep_dts = np.linspace(sweep["dt_min"], sweep["dt_max"], sweep["n"])
    params = dict(n_points=n_points, panels=list(panels), max_steps=max_steps, sweep=sweep)
    save_npz(
        out,
        dts=dts,
        states=states,
        max_abs=max_abs,
        first_nonfinite=first_nonfinite(max_abs),
        sweep_dts=sweep_dts,
        sweep_growth=measured_growth(u0, sweep_dts, sweep["steps"]),
        sweep_exact=spectral_radius(sweep_dts, n_points),
        von_neumann=von_neumann_bound(),
        dirichlet=dirichlet_bound(n_points),
        provenance=json.dumps(provenance(params)),
    )
