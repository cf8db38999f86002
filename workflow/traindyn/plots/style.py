"""Shared matplotlib setup: headless backend, readable defaults, PDF + PNG output."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..atomic import atomic_path  # noqa: E402

plt.rcParams.update({
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 7.5,
    "pdf.fonttype": 42,
})


def save_figure(fig: plt.Figure, pdf: str | os.PathLike, png: str | os.PathLike) -> None:
    """Write the figure as vector PDF and raster PNG, atomically, and close it."""
    fig.tight_layout()
    for path, fmt in ((pdf, "pdf"), (png, "png")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt)
    plt.close(fig)


def banner(fig: plt.Figure, reasons: list[str]) -> None:
    """A red notice across the figure naming why its data cannot be read as a result (a
    degenerate run, a failed control): nobody takes such a figure for a valid one."""
    if not reasons:
        return
    text = "NOT A VALID RESULT\n" + "\n".join(f"• {r}" for r in reasons)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#b00000",
             wrap=True, zorder=100,
             bbox=dict(boxstyle="round", facecolor="white", edgecolor="#b00000", alpha=0.92))
