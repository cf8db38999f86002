"""Wall time of one paper-scale LE-SDE noise level on this machine, and the whole sweep's.

Trains one noise level of the Figure 4 label-noise sweep exactly as a pipeline job does
(:func:`traindyn.lesde.train.train_trials`: 100 trials x 10^4 one-sample SGD iterations, lr 0.005,
float64, GeoMNIST 500 + 500 images per class), validating on the full 1,500-image set every
``--eval-every`` iterations (100: a CPU user's setting; the paper validates every iteration), and
extrapolates to the sweep's 10 noise levels (every level costs the same: the noise changes labels,
not arithmetic). Prints the measured wall time, the training and validation shares (timed on the
same parameters after the run) and the extrapolation.

  .venv/bin/python workflow/benchmarks/lesde_sweep_level.py [--iterations 10000] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from traindyn.data.geomnist import build_geomnist  # noqa: E402
from traindyn.lesde.datasets import geomnist  # noqa: E402
from traindyn.data.noise import corrupt_labels  # noqa: E402
from traindyn.lesde.train import RunSpec, train_trials  # noqa: E402
from traindyn.run_record import stamp  # noqa: E402

LEVELS = 10  # p in {0, .1, .2, .3, .4, .5, .6, 2/3, .7, .8}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=10_000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    ap.add_argument("--out", default=None, help="work directory (default: a temporary one)")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="lesde_level_"))
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / "geomnist.npz"
    if not data_path.exists():
        build_geomnist(str(data_path), n_train=500, n_val=500, seed=0, image_size=32,
                       max_angle_deg=176, blur_sigma=(0.9, 1.1))
    data = geomnist(str(data_path))
    y_used = corrupt_labels(data.y_train, args.p, data.n_classes, np.random.default_rng(0))
    spec = RunSpec("geomnist_noise", f"p{args.p}", tuple(range(args.trials)), args.iterations,
                   0.005, args.eval_every, 0, args.dtype, "cpu", checkpoint_every=1000)
    t = time.perf_counter()
    train_trials(data, y_used, spec, str(out / "steps.parquet"), str(out / "val.parquet"),
                 str(out / "work"), {}, {"bench": time.time()})
    wall = time.perf_counter() - t
    evals = args.iterations // args.eval_every
    print(f"{stamp()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"one noise level: {args.trials} trials x {args.iterations} iterations, full validation "
          f"({len(data.y_val)} images) every {args.eval_every} iterations ({evals} passes), "
          f"{args.dtype}: {wall:.0f} s")
    print(f"sweep of {LEVELS} levels (extrapolated): {LEVELS * wall / 3600:.2f} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
