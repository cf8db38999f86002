"""GPU smoke test: a short piece of every GPU training job, run on the node where the real jobs
will run, before submitting them. Prints pass/fail per job, timings, the sustained rates they imply
and the config `budget` values to use (see traindyn.budget).

  .venv/bin/python workflow/scripts/gpu_smoke.py [--cifar-root DIR] [--out DIR]
  (`make gpu-smoke`; `--device cpu --small` runs the same checks on a CPU, as the tests do)

Jobs: one epoch of the paper's Table 1 job (ResNet-56, k = 1, 3, ..., 11 and the null control),
100 LE-SDE iterations of 25 trials with full validation every iteration, and 10 saves of a
Figure 2 run. Without a usable GPU it stops at once with the reason (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the library beside this script

from traindyn import budget as cost  # noqa: E402
from traindyn.data.geomnist import build_geomnist  # noqa: E402
from traindyn.instab.outputs import read_fig2_run, read_table1_run  # noqa: E402
from traindyn.lesde.logs import check_log_complete  # noqa: E402
from traindyn.runtime import DeviceError, resolve_device  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--cifar-root", default=None, help="CIFAR-10 root (default: GeoMNIST)")
    ap.add_argument("--small", action="store_true", help="tiny networks (a CPU check)")
    ap.add_argument("--out", default=None, help="where to keep the outputs (default: a temp dir)")
    args = ap.parse_args()
    try:
        device = resolve_device(args.device, 0 if args.device == "cpu" else 1)
    except DeviceError as err:
        print(f"gpu-smoke: FAIL: {err}")
        return 1
    out = Path(args.out or tempfile.mkdtemp(prefix="gpu_smoke_"))
    out.mkdir(parents=True, exist_ok=True)
    small = args.small
    per_class = 20 if small else 500
    geo = str(out / "geomnist.npz")
    build_geomnist(geo, n_train=per_class, n_val=per_class, seed=0, image_size=32,
                   max_angle_deg=176, blur_sigma=[0.9, 1.1])
    net = dict(depth=8 if small else 56, width=4 if small else 16, swish_beta=5.0, shortcut="B")
    cifar = args.cifar_root is not None
    data = dict(dataset="cifar10", data=None, root=args.cifar_root) if cifar else dict(
        dataset="geomnist", data=geo)
    channels, n_train, n_test = (3, 50000, 10000) if cifar else (1, 3 * per_class, 3 * per_class)
    common = dict(network=net, dtype="float32", device=str(device), deterministic=True, **data)
    results = []

    def timed(name: str, run, check, flops_steps) -> None:
        start = time.perf_counter()
        try:
            run()
            check()
            ok, why = True, ""
        except Exception as err:  # report every job, then fail
            ok, why = False, f"{type(err).__name__}: {err}"
        seconds = time.perf_counter() - start
        flops, steps = flops_steps
        results.append((name, ok, seconds, flops / seconds / 1e9, steps / seconds, why))

    from traindyn.instab.steps import fig2_divergence, fig2_run, table1_run
    from traindyn.lesde.steps import train_run

    ks = [1, 3] if small else [1, 3, 5, 7, 9, 11]
    t1 = out / "table1.parquet"
    timed("Table 1, 1 epoch", lambda: table1_run(
        str(t1), seed=1, activation="relu", ks=ks, lr=0.1, momentum=0.9, nesterov=True,
        weight_decay=5e-4, batch=128, epochs=1, milestones=[], test_batch=256, **common),
        lambda: _control_held(read_table1_run(t1)),
        cost.resnet_job_cost(net, channels, len(ks) + 1, n_train, n_test, 1, 128))
    f2, snaps = out / "fig2.npz", out / "fig2.snapshots.safetensors"
    timed("Figure 2, 10 saves", lambda: (fig2_run(
        str(snaps), n=1, base_lr=0.1, saves=10, ks=[1, 3], seed=7, weight_decay=5e-4,
        batch=128, **common), fig2_divergence(str(snaps), str(f2), layer="layer2.0.conv1")),
        lambda: read_fig2_run(f2),
        cost.resnet_steps_cost(net, channels, 2, 10, 128))
    steps, val = out / "lesde.steps.parquet", out / "lesde.val.parquet"
    trials, iters = (5, 20) if small else (25, 100)
    timed("LE-SDE, 100 iterations", lambda: train_run(
        str(steps), str(val), geo, experiment="geomnist_noise", setting="p0.0", trials=[0, trials],
        dataset="geomnist", p=0.0, iterations=iters, lr=0.005, eval_every=1, eval_subset=None,
        seed=0, dtype="float64", device=str(device), checkpoint_every=1000),
        lambda: (check_log_complete(steps), check_log_complete(val)),
        cost.lesde_job_cost(1, 3, iters, 1, 3 * per_class, trials))

    print(f"gpu-smoke on {device} (outputs in {out})")
    for name, ok, seconds, gflops, steps_s, why in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:24s} {seconds:8.1f} s  {gflops:10.1f} GFLOP/s  "
              f"{steps_s:8.1f} steps/s  {why}")
    kind = "gpu" if device.type == "cuda" else "cpu"
    resnet = min(r[3] for r in results[:2])
    print(f"implied config: budget.resnet.{kind}_gflops: {resnet:.0f}, "
          f"budget.lesde.{kind}_gflops: {results[2][3] * 2:.0f} (float64 x float64_factor 2)")
    return 0 if all(r[1] for r in results) else 1


def _control_held(table) -> None:
    if not all(table["control_identical"].to_pylist()):
        raise AssertionError("the null control diverged from its k = 1 twin: kernels are not "
                             "deterministic on this device")


if __name__ == "__main__":
    sys.exit(main())
