"""Read the class-mean curves of the authors' LE-SDE Figure 1b off the image saved in their
analysis notebook: each curve's mean position over the last iterations (claims F1-1w).

  .venv/bin/python workflow/scripts/read_authors_figure1.py \
      --notebook "le_sde/LE-SDE Data Analysis.ipynb" [--last 1000]

The image is cell 12's second output (x: projection on unit(Xbar_0 - Xbar_1), y: iteration t).
Calibration: the axes frame's spines at pixel columns 90 and 557 are the notebook's
``plt.xlim(-18, 18)``; frame rows 348 (bottom) and 7 (top) are matplotlib's autoscaled y limits
for t in [0, 9999] (a 5% margin each side); both agree with the tick labels. A curve's pixels
are those within ``tol`` (max over RGB) of its seaborn "deep" colour, inside a window of
plausible x for that curve; the reading is the mean x of those pixels over the rows that cover
t in [9999 - last, 9999]. Three colour tolerances show how much the choice moves it.
"""

from __future__ import annotations

import argparse
import base64
import io
import json

import numpy as np
from PIL import Image

CELL, OUTPUT = 12, 1
X0, X1, XLIM = 90, 557, (-18.0, 18.0)  # spine columns and the x limits they show
Y0, Y1, T_END = 348, 7, 9999  # bottom and top frame rows; the last iteration
COLOUR = {0: (76, 114, 176), 1: (221, 132, 82), 2: (85, 168, 104)}  # seaborn deep C0-C2
WINDOW = {0: (2, 17), 1: (-17, -4), 2: (-3, 9)}  # where each curve can be (data units)


def figure(notebook: str) -> np.ndarray:
    cells = json.load(open(notebook, encoding="utf-8"))["cells"]
    png = base64.b64decode(cells[CELL]["outputs"][OUTPUT]["data"]["image/png"])
    return np.asarray(Image.open(io.BytesIO(png))).astype(int)[..., :3]


def reading(im: np.ndarray, cls: int, last: int, tol: int) -> float:
    lo, hi = -0.05 * T_END, 1.05 * T_END
    row = lambda t: Y0 - (t - lo) / (hi - lo) * (Y0 - Y1)  # noqa: E731
    x = lambda cols: XLIM[0] + (cols - X0) / (X1 - X0) * (XLIM[1] - XLIM[0])  # noqa: E731
    mask = np.abs(im - np.array(COLOUR[cls])).max(-1) <= tol
    rows = range(int(np.ceil(row(T_END))), int(np.floor(row(T_END - last))) + 1)
    xs = np.concatenate([x(np.flatnonzero(mask[r])) for r in rows])
    xs = xs[(xs > WINDOW[cls][0]) & (xs < WINDOW[cls][1])]
    return float(xs.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebook", required=True)
    ap.add_argument("--last", type=int, default=1000)
    args = ap.parse_args()
    im = figure(args.notebook)
    print(f"class | reading over the last {args.last} iterations at colour tolerance 6 / 15 / 30")
    for cls in COLOUR:
        print(cls, " / ".join(f"{reading(im, cls, args.last, tol):.3f}" for tol in (6, 15, 30)))


if __name__ == "__main__":
    main()
