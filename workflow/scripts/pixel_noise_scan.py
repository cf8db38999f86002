"""How hard is noisy GeoMNIST? One Table 1 run (seed 1, k = 1 and 3 plus the null control) per
pixel-noise level, printing per-epoch test accuracy and the final training accuracy. This is how
the reference tier's ``instab.pixel_noise`` was chosen (docs/reference.md).

  .venv/bin/python workflow/scripts/pixel_noise_scan.py --sigmas 0.5,0.7,1.0 [--out scan/]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's library

import pyarrow.parquet as pq  # noqa: E402

from traindyn.data.geomnist import build_geomnist  # noqa: E402
from traindyn.instab.steps import table1_run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sigmas", default="0.5,0.7,1.0")
    ap.add_argument("--per-class", type=int, default=500, help="training images per class")
    ap.add_argument("--test-per-class", type=int, default=None,
                    help="test images per class (default: as --per-class)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--milestones", default="12,17")
    ap.add_argument("--out", default="pixel_noise_scan")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_test = args.test_per_class or args.per_class
    data = out / f"geomnist_{args.per_class}_{n_test}.npz"
    if not data.exists():
        build_geomnist(str(data), n_train=args.per_class, n_val=n_test, seed=0,
                       image_size=32, max_angle_deg=176, blur_sigma=[0.9, 1.1])
    for sigma in map(float, args.sigmas.split(",")):
        t0 = time.perf_counter()
        run = out / f"table1_sigma{sigma}_{args.per_class}_{args.epochs}.parquet"
        table1_run(str(run), str(data), dataset="geomnist", seed=1, activation="relu",
                   ks=[1, 3], network=dict(depth=8, width=8, swish_beta=5.0, shortcut="B"),
                   lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4, batch=32,
                   epochs=args.epochs, milestones=[int(m) for m in args.milestones.split(",")],
                   test_batch=300, dtype="float32", device="cpu", deterministic=True,
                   pixel_noise=sigma)
        df = pq.read_table(run).to_pandas()
        test = df.pivot_table(index="epoch", columns="copy", values="test_acc")
        last = df[df.epoch == df.epoch.max()].set_index("copy")["train_acc"]
        print(f"pixel_noise {sigma}: {time.perf_counter() - t0:.0f} s; test accuracy per epoch "
              "(columns: copies k = 1, 3, control)")
        print(test.round(4).to_string())
        print("final training accuracy:", last.round(3).to_dict(), flush=True)


if __name__ == "__main__":
    main()
