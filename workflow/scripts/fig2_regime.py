"""In which regime does SI Figure 2's divergence grow? Figure 2 runs (k = 1 vs k = 3 copies,
plain SGD, lr = base_lr / n for n x saves updates) on GeoMNIST with and without pixel noise,
reporting the final divergence of the watched layer over the float32 rounding floor.

  .venv/bin/python workflow/scripts/fig2_regime.py [--out DIR] [--variants noisy:2,clean:2,...]

Each variant is ``<noise>:<n>`` with noise ``noisy`` (the reference tier's instab.pixel_noise,
0.7) or ``clean`` (0). The network, seed, batch and weight decay are the reference tier's
Figure 2 settings (config.yaml + workflow/configs/reference.yaml). One thread; measured numbers
are in docs/reference.md ("Figure 2's regime").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from traindyn.configfile import load, merge  # noqa: E402
from traindyn.data.geomnist import build_geomnist  # noqa: E402
from traindyn.instab.steps import fig2_divergence, fig2_run  # noqa: E402

NOISE = {"noisy": None, "clean": 0.0}  # None: the tier's instab.pixel_noise (not Figure 2's)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/fig2_regime")
    ap.add_argument("--variants", default="noisy:2,clean:2,noisy:1,clean:32")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = merge(load(ROOT / "config.yaml"), load(ROOT / "workflow/configs/reference.yaml"))
    ins, f2 = cfg["instab"], cfg["instab"]["fig2"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "geomnist.npz"
    if not data.exists():
        geo = cfg["data"]["geomnist"]
        build_geomnist(str(data), n_train=ins["train_per_class"], n_val=ins["test_per_class"],
                       seed=geo["seed"], image_size=geo["image_size"],
                       max_angle_deg=geo["max_angle_deg"], blur_sigma=geo["blur_sigma"])
    eps = float(torch.finfo(torch.float32).eps)
    print("| data | pixel noise | lr | updates | final / floor | largest / floor | seconds |")
    print("|---|---|---|---|---|---|---|")
    for variant in args.variants.split(","):
        kind, n = variant.split(":")
        noise = ins["pixel_noise"] if NOISE[kind] is None else NOISE[kind]
        run = out / f"{kind}-n{n}.safetensors"
        start = time.monotonic()
        fig2_run(str(run), str(data), dataset="geomnist", n=int(n), base_lr=f2["base_lr"],
                 saves=f2["saves"], ks=f2["ks"], seed=f2["seed"], network=ins["network"],
                 weight_decay=f2["weight_decay"], batch=f2["batch"], dtype="float32",
                 device="cpu", deterministic=True, pixel_noise=noise)
        fig2_divergence(str(run), str(out / f"{kind}-n{n}.npz"), layer=f2["layer"])
        div = np.load(out / f"{kind}-n{n}.npz")["divergence"]
        print(f"| {kind} | {noise} | {f2['base_lr'] / int(n):.4g} | {int(n) * f2['saves']} | "
              f"{np.mean(div[-3:]) / eps:.3g} | {div.max() / eps:.3g} | "
              f"{time.monotonic() - start:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
