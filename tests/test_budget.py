"""The runtime each training job asks a scheduler for comes from a cost model: its FLOP counts
match PyTorch's own counter on the real networks, and every paper-scale job's request covers its
estimate without asking for more than the safety factor."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import torch
import yaml
from torch.utils.flop_counter import FlopCounterMode

from conftest import ROOT, SNAKEMAKE
from traindyn import budget as cost
from traindyn.lesde.model import init_params, logits_shared
from traindyn.models.resnet import CopiesResNet


@pytest.mark.parametrize("depth,shortcut", [(8, "A"), (20, "B"), (56, "B")])
def test_resnet_flops_match_torch_counter(depth, shortcut):
    net = CopiesResNet(depth, 1, width=16, shortcut=shortcut)
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, 32, 32))
    # the counter sees convolutions and the classifier product (BN, ReLU, pooling are minor)
    assert cost.resnet_flops(depth, 16, 3, shortcut=shortcut) == counter.get_total_flops()


def test_simpleconv_flops_match_torch_counter():
    params = init_params([0], seed=0, experiment="x", channels=1, n_classes=3)
    with FlopCounterMode(display=False) as counter:
        logits_shared(params, torch.zeros(1, 1, 32, 32, dtype=torch.float64))
    assert cost.simpleconv_flops(1, 3) == counter.get_total_flops()


def test_request_is_the_estimate_times_safety_with_a_floor():
    budget = {"safety": 3.0, "min_minutes": 10}
    assert cost.request_minutes(60.0, budget) == 10
    assert cost.request_minutes(3600.0, budget) == 180
    rates = {"resnet": {"gpu_gflops": 1000.0, "cpu_gflops": 10.0}, "float64_factor": 2.0,
             "gpu_step_overhead_ms": 1.0}
    assert cost.estimate_seconds(1e12, 1000, "resnet", True, "float32", rates) == pytest.approx(2.0)
    assert cost.estimate_seconds(1e12, 1000, "resnet", True, "float64", rates) == pytest.approx(3.0)
    assert cost.estimate_seconds(1e12, 1000, "resnet", False, "float32", rates) == pytest.approx(100)


def paper_jobs(tmp_path, **overlay) -> list[dict]:
    """Training jobs of the paper config's dry run (plus ``overlay``, a config overlay): rule,
    wildcards, requested runtime."""
    from lesde_fixtures import cifar_archive

    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({"data": {"cifar10_root": cifar_archive(tmp_path / "c")},
                                    **overlay}))
    proc = subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                           "-n", "--configfile", str(ROOT / "workflow/configs/paper.yaml"),
                           str(data)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = []
    for block in proc.stdout.split("\nrule ")[1:]:
        rule = block.split(":")[0]
        if rule not in ("lesde_train", "instab_table1_run", "instab_fig2_run"):
            continue
        wild = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"wildcards: (.*)", block).group(1)))
        runtime = int(re.search(r"runtime=(\d+)", block).group(1))
        jobs.append(dict(rule=rule, wildcards=wild, runtime=runtime))
    return jobs


CAP = 240  # minutes: a common partition limit


@pytest.mark.workflow
def test_paper_jobs_ask_for_their_estimate_times_the_safety_factor_up_to_the_cap(tmp_path):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    paper = yaml.safe_load((ROOT / "workflow/configs/paper.yaml").read_text())
    budget = config["budget"]
    net = paper["instab"]["network"]
    jobs = paper_jobs(tmp_path, cluster={"max_runtime_minutes": CAP})
    assert {j["rule"] for j in jobs} == {"lesde_train", "instab_table1_run", "instab_fig2_run"}
    capped = []
    for job in jobs:
        w = job["wildcards"]
        if job["rule"] == "instab_fig2_run":
            f2 = {**config["instab"]["fig2"], **paper["instab"]["fig2"]}
            work = cost.resnet_steps_cost(net, 3, 2, f2["saves"] * int(w["n"]), f2["batch"])
            est = cost.estimate_seconds(*work, "resnet", True, w["dtype"], budget)
        elif job["rule"] == "instab_table1_run":
            t1 = {**config["instab"]["table1"], **paper["instab"]["table1"]}
            work = cost.resnet_job_cost(net, 3, len(t1["ks"]) + 1, 50000, 10000, t1["epochs"],
                                        t1["batch"])
            est = cost.estimate_seconds(*work, "resnet", True, "float32", budget)
        else:
            exp = {**config["lesde"][w["experiment"]], **paper["lesde"][w["experiment"]]}
            k = int(w["setting"][1:]) if w["experiment"] == "cifar" else 3
            per_class = (int(w["setting"].split("-")[1]) if w["experiment"] == "geomnist_size"
                         else exp["val_per_class"])
            work = cost.lesde_job_cost(3 if k != 3 or w["experiment"] == "cifar" else 1, k,
                                       exp["iterations"], exp["eval_every"], per_class * k,
                                       int(w["hi"]) - int(w["lo"]))
            est = cost.estimate_seconds(*work, "lesde", True, "float64", budget)
        minutes = est / 60
        if budget["safety"] * minutes > CAP:  # the request is capped (the job resubmitted)
            assert job["runtime"] == CAP, job
            capped.append(job)
            continue
        assert job["runtime"] >= minutes, job  # the request covers the estimate ...
        # ... and asks for no more than the safety factor (or the floor) allows
        assert job["runtime"] <= max(budget["min_minutes"], budget["safety"] * minutes + 1), job
    # uncapped above 240 minutes (docs/cluster.md): SI Figure 2 at n = 32,000 (2,221) and the
    # longest LE-SDE CIFAR-10 jobs (248)
    assert sorted((j["rule"], j["wildcards"].get("n", j["wildcards"].get("experiment")))
                  for j in capped) == [("instab_fig2_run", "32000")] + [("lesde_train", "cifar")] * 4


def test_gpu_smoke_runs_its_checks(tmp_path):
    """The smoke test's checks on a CPU (tiny networks); on a machine without CUDA the real
    command fails at once with the reason."""
    import sys

    script = str(ROOT / "workflow/scripts/gpu_smoke.py")
    proc = subprocess.run([sys.executable, script, "--device", "cpu", "--small", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert proc.stdout.count("PASS") == 3 and "implied config: budget.resnet.cpu_gflops" in proc.stdout
    if not torch.cuda.is_available():
        proc = subprocess.run([sys.executable, script], capture_output=True, text=True)
        assert proc.returncode == 1 and "CUDA is not usable" in proc.stdout


def test_budget_table_sums_the_benchmark_files(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    from budget_table import table

    from traindyn.run_record import benchmark_rows

    base = tmp_path / "results" / "benchmarks"
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rel, s, rss in (("lesde_train/a/p0.0/trials0-2.tsv", 10.0, 300),
                        ("lesde_train/a/p0.1/trials0-2.tsv", 12.5, 310),
                        ("heat_simulate.tsv", 1.5, 90)):
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + f"{s}\t0:00:10\t{rss}\t0\t0\t0\t0\t0\t0\t0\n")
    text = table(benchmark_rows(tmp_path / "results"))
    assert "| `lesde_train` | 2 | 22.5 | 12.5 | 310 |" in text
    assert "| `heat_simulate` | 1 | 1.5 | 1.5 | 90 |" in text


def test_budget_table_stamps_a_run_with_its_config_hash_and_refuses_another_config(tiny_run,
                                                                                  tmp_path):
    import sys

    from traindyn.compare import config_hash

    script = str(ROOT / "workflow/scripts/budget_table.py")
    proc = subprocess.run([sys.executable, script, "--run", str(tiny_run), "--config",
                           str(tiny_run / "config.yaml"), "--no-docs"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    digest = config_hash(tiny_run / "config.yaml")
    assert f"config.yaml sha256 {digest}" in proc.stdout and "**Paper claims: " in proc.stdout
    assert "| `lesde_train` |" in proc.stdout and "of summed job wall time" in proc.stdout
    proc = subprocess.run([sys.executable, script, "--run", str(tiny_run), "--config",
                           str(ROOT / "config.yaml"), "--no-docs"], capture_output=True, text=True)
    assert proc.returncode == 1 and "was not run with" in proc.stderr  # the quick config
