"""Workflow-level tests: lint, formatting, DAGs of the shipped configs, the tiny end-to-end run,
reruns of only what changed, and config errors before any job."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SNAKEMAKE, snakemake

pytestmark = pytest.mark.workflow


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> job count of a dry run (empty when there is nothing to do)."""
    return planned_jobs_cmd(["-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args])


def planned_jobs_cmd(args: list[str]) -> dict[str, int]:
    proc = subprocess.run([SNAKEMAKE, "-n", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        jobs[m.group(1)] = int(m.group(2))
    jobs.pop("total", None)
    return jobs


def test_lint_has_no_findings(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    proc = snakemake(tmp_path, "--lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_rules_are_snakefmt_formatted():
    snakefmt = str(Path(sys.executable).with_name("snakefmt"))
    proc = subprocess.run([snakefmt, "--check", "Snakefile", "workflow/rules"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


PAPER = str(ROOT / "workflow/configs/paper.yaml")


@pytest.mark.parametrize("paper", [False, True], ids=["quick", "paper"])
def test_shipped_configs_build_a_dag(tmp_path, paper):
    from lesde_fixtures import cifar_archive

    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    extra = []
    if paper:  # the paper scale reads CIFAR-10: a small archive in the real format stands in
        data = tmp_path / "data.yaml"
        data.write_text(yaml.safe_dump({"data": {"cifar10_root": cifar_archive(tmp_path / "c")}}))
        extra = ["--configfile", PAPER, str(data)]
    jobs = planned_jobs(tmp_path, *extra)
    assert {"lesde_summary", "lesde_fig1_separation", "lesde_fig3_impacts",
            "lesde_fig4_phase_transition", "lesde_fig5_leode", "lesde_neural_collapse"} <= set(jobs)
    assert {"heat_simulate", "si_fig1_heat", "geomnist", "geomnist_samples", "pde_linear",
            "pde_stability_table", "pde_nonlinear", "pde_amplification", "si_fig3_linear_pde",
            "si_table2_stability_bounds", "si_fig4_nonlinear_pde", "si_fig4_error_amplification",
            "lesde_train", "instab_table1_run", "instab_fig2_run", "si_table1_accuracy",
            "si_fig2_divergence", "claims", "all"} <= set(jobs)


def test_missing_cifar_stops_the_dry_run_naming_path_and_switch(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    proc = snakemake(tmp_path, "-n", "--configfile", PAPER)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in out
    assert "data.cifar10_root" in out and "cifar10_download: true" in out


def test_yaml_error_names_file_and_line(tiny_workdir):
    (tiny_workdir / "config.yaml").write_text("targets:\n  si_heat: [true\n")
    proc = snakemake(tiny_workdir, "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "config.yaml, line 3, column 1: not valid YAML" in out


def test_bad_config_stops_before_any_job(tiny_workdir):
    config = yaml.safe_load((tiny_workdir / "config.yaml").read_text())
    config["heat"]["panels"] = [0.4, -0.8]
    config["pde"] = {"amplification": {"k": [0, 3]}}
    (tiny_workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(tiny_workdir, "--cores", "1")
    assert proc.returncode != 0
    assert "heat.panels[1]: -0.8" in proc.stderr
    assert "pde.amplification.k[0]: 0" in proc.stderr
    assert not (tiny_workdir / "results").exists()


def test_tiny_run_outputs_and_claims(tiny_run):
    stems = ("si/fig1_heat", "lesde/geomnist_samples", "si/fig3_linear_pde",
             "si/fig4_nonlinear_pde", "si/fig4_error_amplification", "lesde/fig1_separation",
             "lesde/fig3_impacts", "lesde/fig4_phase_transition", "lesde/fig5_leode",
             "lesde/neural_collapse", "si/table1_accuracy", "si/fig2_divergence",
             "si/fig2_precision")
    for stem in stems:
        for ext in ("pdf", "png"):
            assert (tiny_run / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    for ext in ("md", "tex", "csv"):
        assert (tiny_run / f"figures/si/table2_stability_bounds.{ext}").stat().st_size > 100
    verdicts, lesde = {}, {}
    for path in sorted((tiny_run / "results/claims").glob("*.json")):
        target = lesde if path.name.startswith("lesde") else verdicts
        target.update({c["id"]: c["verdict"] for c in json.loads(path.read_text())})
    assert [k for k, v in verdicts.items() if v == "fail"] == []
    # the tiny heat run stops at 1000 updates: H1's last snapshot cannot be evaluated, says why
    assert [k for k, v in verdicts.items() if v == "not-applicable"
            and not k.startswith(("T", "F2", "XP"))] == ["H1[n=2000]"]
    # 3 trials x 40 iterations say nothing about LE-SDE: only the data-free checks are evaluated
    # (U4 counts corrupted labels in the logs: n/a when some example was never sampled)
    evaluated = {k: v for k, v in lesde.items() if v != "not-applicable"}
    assert evaluated.pop("U1") == "pass"
    assert set(evaluated) <= {"U4[p=0.0]", "U4[p=0.67]"} and set(evaluated.values()) <= {"pass"}
    assert len(lesde) > 20
    for cid in ("H3a", "L1", "L4", "L6a", "L7b", "N1[lr=0.01]", "N2[lr=0.07]", "N5", "N6",
                "R1[lr=0.03]", "R2[lr=0.09]a", "M1", "S-alpha_max[lr=5e-08]"):
        assert verdicts[cid] == "pass", cid
    md = (tiny_run / "figures/claims.md").read_text()
    assert " 0 fail" in md
    logs = sorted(p.relative_to(tiny_run / "results/lesde").as_posix()
                  for p in (tiny_run / "results/lesde").rglob("*.parquet"))
    assert logs == sorted(f"geomnist_noise/{s}/trials{c}.{k}.parquet"
                          for s in ("p0.0", "p0.0-r1", "p0.67") for c in ("0-2", "2-3")
                          for k in ("steps", "val"))


def test_a_run_ends_with_its_verdict(tiny_run):
    out = (tiny_run / "snakemake.out").read_text()
    assert "Claims (figures/claims.md):" in out and "Paper claims:" in out
    assert "Self-checks:" in out and "Report: figures/report.html" in out
    # every file of figures/ belongs to this config: none is named a leftover
    assert "does not build" not in out
    manifest = json.loads((tiny_run / "figures/manifest.json").read_text())
    assert manifest["leftovers"] == []
    assert {"figures/claims.json", "figures/run_config.json"} <= {
        d["path"] for d in manifest["deliverables"]}


def test_second_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run) == {}


def test_changing_heat_dts_reruns_only_heat_and_claims(tiny_run, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, symlinks=True)
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["heat"]["panels"] = [0.4, 0.6]
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    assert planned_jobs(work) == {"heat_simulate": 1, "si_fig1_heat": 1, "claims": 1,
                                  "manifest": 1, "run_config": 1, "all": 1}


def test_the_run_records_its_config_and_compares_with_another(tiny_run, tmp_path):
    """figures/run_config.json is the config as the run used it (schema defaults filled, keys
    sorted); `make compare` of a copy whose config changed in one key names that key."""
    from traindyn.compare import report
    from traindyn.config import sorted_keys
    from snakemake.utils import validate

    used = json.loads((tiny_run / "figures/run_config.json").read_text())
    config = yaml.safe_load((tiny_run / "config.yaml").read_text())
    validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"), set_default=True)
    assert used == sorted_keys(config) and list(used) == sorted(used)
    other = tmp_path / "other"
    (other / "figures").mkdir(parents=True)
    (other / "figures/claims.json").write_bytes((tiny_run / "figures/claims.json").read_bytes())
    used["heat"]["max_steps"] = 2500
    (other / "figures/run_config.json").write_text(json.dumps(used))
    text = report(tiny_run, other)
    assert "Config keys that differ: 1\n  heat.max_steps: 1000 -> 2500" in text
    assert "changed: 0" in text


def test_report_is_built(tiny_run, tmp_path):
    proc = snakemake(tiny_run, "--report", str(tmp_path / "report.html"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "fig1_heat.png" in html and "claims.md" in html
    assert "System Message" not in html  # docutils' box for a caption it could not parse


def make(work: Path, target: str, *extra: str) -> subprocess.CompletedProcess:
    """A Makefile target in a run directory, with this environment's Snakemake and Python."""
    smk = f"{SNAKEMAKE} -s {ROOT / 'Snakefile'}"
    return subprocess.run(["make", "-f", str(ROOT / "Makefile"), "-C", str(work), target,
                           f"SNAKEMAKE={smk}", "STAMP=", f"PY={sys.executable}", *extra],
                          capture_output=True, text=True)


def _copy(tiny_run: Path, tmp_path: Path) -> Path:
    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, symlinks=True)
    return work


def test_report_of_a_partial_run(tiny_run, tmp_path):
    """`make report-partial` reports what is current, e.g. after one figure was deleted."""
    work = _copy(tiny_run, tmp_path)
    (work / "figures/lesde/geomnist_samples.png").unlink()
    proc = make(work, "report-partial")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (work / "figures/report.html").read_text(errors="replace")
    assert "fig1_heat.png" in html and "geomnist_samples.png" not in html


def test_disabled_targets_are_named_leftovers_not_deliverables(tiny_run, tmp_path):
    """si_deep off and Table 1's epochs changed: the old Table 1 and Figure 2 stay in figures/,
    but the run names them, and neither the claims, the manifest's deliverables nor the report
    contain them."""
    work = _copy(tiny_run, tmp_path)
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["targets"]["si_deep"] = False
    config["instab"]["table1"]["epochs"] = 3
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "that the current config does not build" in proc.stdout + proc.stderr
    assert "figures/si/table1_accuracy.md" in proc.stdout + proc.stderr
    claims = json.loads((work / "figures/claims.json").read_text())
    assert claims and not [c for c in claims if c["figure"] in ("Table 1", "Figure 2")
                           and c["paper"] == "SI"]
    manifest = json.loads((work / "figures/manifest.json").read_text())
    paths = {d["path"] for d in manifest["deliverables"]}
    assert "figures/si/fig1_heat.png" in paths and "figures/si/table1_accuracy.md" not in paths
    assert "figures/si/table1_accuracy.md" in manifest["leftovers"]
    proc = make(work, "report-partial")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "figures/si/fig2_divergence.png" in proc.stdout  # named as a leftover
    html = (work / "figures/report.html").read_text(errors="replace")
    assert "fig1_heat.png" in html and "table1_accuracy" not in html
    assert "fig2_divergence" not in html


def test_verify_rechecks_every_output_without_running(tiny_run, tmp_path):
    """A log truncated with its timestamp put back: Snakemake sees nothing to do; `make verify`
    names it (and passes on the intact run)."""
    work = _copy(tiny_run, tmp_path)
    proc = make(work, "verify")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " 0 problems" in proc.stdout and " 0 leftovers" in proc.stdout
    log = work / "results/lesde/geomnist_noise/p0.0/trials0-2.steps.parquet"
    stat = log.stat()
    log.write_bytes(log.read_bytes()[:-300])
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert planned_jobs(work) == {}
    proc = make(work, "verify")
    assert proc.returncode != 0
    rel = log.relative_to(work)
    assert f"FAIL {rel}: its bytes changed after its job (lesde_train) wrote it" in proc.stdout
    assert "summary.npz: built from inputs that have changed since" in proc.stdout


def test_logs_of_another_setting_stop_the_summary_naming_the_file(tiny_run, tmp_path):
    work = _copy(tiny_run, tmp_path)
    d = work / "results/lesde/geomnist_noise"
    for f in (d / "p0.67").glob("trials*.parquet"):
        shutil.copy(f, d / "p0.0" / f.name)
    proc = snakemake(work, "--cores", "1", "figures/lesde/fig3_impacts.pdf")
    assert proc.returncode != 0
    log = (work / "results/logs/lesde/geomnist_noise/p0.0/summary.log").read_text()
    # (the records name them first; without records the reader's identity check does:
    # tests/test_identity.py)
    assert ("results/lesde/geomnist_noise/p0.0/trials0-2.steps.parquet: its bytes changed after "
            "its job (lesde_train) wrote it") in log and "copied over" in log, log[-2000:]


def test_one_value_written_two_ways_replans_nothing(tiny_run, tmp_path):
    """ps: [0, ...] is ps: [0.0, ...]; nested --config values arrive as text and are read as
    the numbers they spell."""
    work = _copy(tiny_run, tmp_path)
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["lesde"]["geomnist_noise"]["ps"] = [0, 0.6666666666666666]
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    assert planned_jobs(work) == {}
    assert planned_jobs(work, "--config", "lesde={geomnist_noise: {lr: 0.01, trials: 3}}") == {}


def _bytes(work: Path) -> dict[str, str]:
    """SHA-256 of every result and figure (logs and timings excepted: they hold times)."""
    import hashlib

    out = {}
    for root in ("results", "figures"):
        for path in sorted((work / root).rglob("*")):
            rel = path.relative_to(work).as_posix()
            if path.is_file() and not rel.startswith(("results/logs/", "results/benchmarks/")):
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# One output of every computing job kind whose threads could change its bits (the figure and
# claims steps compute on one thread); the whole pipeline on one core took 3 minutes.
EVERY_KIND = ["results/lesde/geomnist_noise/p0.67/trials0-2.steps.parquet",
              "results/instab/table1/relu/seed1.parquet", "results/instab/fig2/float32/n2.npz",
              "results/si/pde/stability_table.npz", "results/si/heat/heat.npz"]


def test_cores_1_and_cores_2_give_the_same_bytes(tiny_run, tmp_path):
    """`make CORES=1` and `--cores 2` (the tiny_run): the thread count every job computes with is
    the config's, so the outputs of every training and PDE job kind (and the data they read)
    are bitwise the same."""
    work = tmp_path / "one"
    work.mkdir()
    shutil.copy(tiny_run / "config.yaml", work / "config.yaml")
    proc = snakemake(work, "--cores", "1", *EVERY_KIND, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, two = _bytes(work), _bytes(tiny_run)
    assert set(EVERY_KIND) <= one.keys() <= two.keys() and len(one) >= 8, sorted(one)
    assert [p for p in one if one[p] != two[p]] == []


@pytest.mark.workflow
def test_another_watched_layer_reruns_extraction_not_training(tiny_run):
    """Figure 2's layer is read from the runs' weight snapshots: changing it plans the
    extraction steps and what is built on them, no training job."""
    plan = planned_jobs(tiny_run, "--config", "instab={fig2: {layer: layer1.0.conv1}}")
    assert plan.get("instab_fig2_divergence", 0) >= 2 and "si_fig2_divergence" in plan, plan
    assert not {"instab_fig2_run", "instab_table1_run", "lesde_train"} & set(plan), plan
