"""`make compare A=dir B=dir`: the claims whose verdict or measured value changed (both values),
claims only one run has, and the config keys that differ; unknown record fields are ignored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import shlex
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SNAKEMAKE, snakemake
from traindyn.compare import RunError, config_changes, flatten, report


def _run(root: Path, claims: list[dict], config: dict) -> Path:
    (root / "figures").mkdir(parents=True)
    (root / "figures/claims.json").write_text(json.dumps(claims))
    (root / "figures/run_config.json").write_text(json.dumps(config))
    return root


def _claim(cid: str, verdict: str, measured, **extra) -> dict:
    return dict(id=cid, paper="SI", figure="Figure 2", statement="s", verdict=verdict,
                measured=measured, expected=">= 1", **extra)


def test_changed_claims_and_config_keys_are_listed_with_both_values(tmp_path):
    a = _run(tmp_path / "a", [_claim("H1", "pass", 1.5), _claim("F2b-2", "fail", 1.85),
                              _claim("L1", "pass", [1, 2]), _claim("gone", "pass", 0)],
             {"heat": {"sweep": {"n": 41, "dt_min": 0.4}}, "seed": 0})
    b = _run(tmp_path / "b", [_claim("H1", "pass", 1.5, uncertainty=0.1, kind="new"),
                              _claim("F2b-2", "inconclusive", 1000.5),
                              _claim("L1", "pass", [1, 3]), _claim("new", "fail", None)],
             {"heat": {"sweep": {"n": 7, "dt_min": 0.4}}, "seed": 0, "extra": {"k": True}})
    text = report(a, b)
    assert "Config keys that differ: 2" in text
    assert "  heat.sweep.n: 41 -> 7" in text and "  extra.k: null -> true" in text
    assert "seed" not in text and "dt_min" not in text
    assert "Claims whose verdict or measured value changed: 4 (of 4 in A)" in text
    assert "F2b-2 (SI Figure 2): verdict fail -> inconclusive; measured 1.85 -> 1000.5" in text
    assert "L1 (SI Figure 2): verdict pass; measured [1, 2] -> [1, 3]" in text
    assert "gone: only in A (pass, measured 0)" in text and "new: only in B (fail" in text
    assert "H1" not in text  # new fields alone are no change


BIN = f"BIN={Path(sys.executable).parent}"


def test_flatten_and_unreadable_claims(tmp_path):
    assert flatten({"a": {"b": 1, "c": {"d": [1]}}, "e": {}}) == {"a.b": 1, "a.c.d": [1], "e": {}}
    assert config_changes({"a": 1}, {"a": 1}) == []
    a = _run(tmp_path / "a", [_claim("H1", "pass", 1)], {"x": 1})
    b = _run(tmp_path / "b", [_claim("H1", "pass", 1)], {"x": 1})
    text = (b / "figures/claims.json").read_text()
    (b / "figures/claims.json").write_text(text[: len(text) // 2])  # truncated
    with pytest.raises(RunError, match=r"b/figures/claims\.json is not valid JSON \(.*\): "
                                       "truncated or damaged"):
        report(a, b)
    (b / "figures/claims.json").write_text('{"H1": 1}')
    with pytest.raises(RunError, match="not a list of claim records"):
        report(a, b)
    with pytest.raises(RunError, match=r"figures/claims\.json is missing"):
        report(a, tmp_path)


# ------------------------------------------------ `make compare` checks both runs as verify does

HEAT = {"targets": {"si_heat": True, "si_pde": False, "lesde_data": False, "lesde_logs": False,
                    "lesde_figures": False, "si_deep": False},
        "heat": {"max_steps": 1000, "sweep": {"dt_min": 0.4, "dt_max": 0.6, "n": 11,
                                              "steps": 500}}}


@pytest.fixture(scope="module")
def heat_run(tmp_path_factory) -> Path:
    """A complete run of the SI Figure 1 family only (seconds)."""
    work = tmp_path_factory.mktemp("heat_run")
    (work / "config.yaml").write_text(yaml.safe_dump(HEAT))
    proc = snakemake(work, "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work


def _compare(a: Path, b: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(ROOT), "compare", "STAMP=", BIN, f"A={a}",
                           f"B={b}", *extra], capture_output=True, text=True, timeout=300)


@pytest.mark.workflow
def test_two_finished_runs_compare_and_a_bad_one_is_refused_naming_why(heat_run, tmp_path):
    ok = _compare(heat_run, heat_run)
    assert ok.returncode == 0, ok.stderr
    assert "Config keys that differ: 0" in ok.stdout and "changed: 0 (of " in ok.stdout

    def variant(name: str, damage) -> Path:
        run = tmp_path / name
        shutil.copytree(heat_run, run)  # mtimes kept
        damage(run)
        return run

    def flip_digit(run: Path) -> None:  # one digit of one claim, its mtime kept
        path = run / "figures/claims.json"
        stat = path.stat()
        text = path.read_text()
        i = next(i for i, ch in enumerate(text) if ch.isdigit() and ch != "9")
        path.write_text(text[:i] + str(int(text[i]) + 1) + text[i + 1:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    def truncate(run: Path) -> None:
        path = run / "figures/claims.json"
        path.write_text(path.read_text()[:100])

    cases = [
        ("incomplete", lambda run: (run / "figures/si/fig1_heat.png").unlink(),
         ["incomplete: 1 outputs, e.g. figures/si/fig1_heat.png: missing"]),
        ("digit", flip_digit, ["damaged: 2 outputs, e.g. figures/claims.json: its bytes changed"]),
        # (truncated now: the manifest that read it is also stale)
        ("truncated", truncate, ["damaged: ", "figures/claims.json: its bytes changed"]),
        ("no-config", lambda run: (run / "figures/run_config.json").unlink(),
         ["figures/run_config.json is missing"]),
    ]
    for name, damage, messages in cases:
        run = variant(name, damage)
        proc = _compare(heat_run, run)
        assert proc.returncode != 0, (name, proc.stdout)
        assert all(m in proc.stderr for m in messages), (name, proc.stderr)
        assert "Traceback" not in proc.stderr and "Claims whose" not in proc.stdout
    # other code (another checkout, its heat solver edited): the run is stale for it; refused,
    # or compared on request with the stale outputs named; a damaged run stays refused
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copy(ROOT / "Snakefile", copy / "Snakefile")
    for folder in ("envs", "workflow"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    heat = copy / "workflow/traindyn/pde/heat.py"
    heat.write_text(heat.read_text() + "\n# edited\n")
    other = shlex.join([SNAKEMAKE, "-s", str(copy / "Snakefile")])

    def compare_with(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "workflow/scripts/compare_runs.py"),
                               "--snakemake", other, *args], capture_output=True, text=True,
                              timeout=300)

    proc = compare_with(str(heat_run), str(heat_run))
    assert proc.returncode != 0 and "stale: " in proc.stderr, proc.stderr
    proc = compare_with("--allow-stale", str(heat_run), str(heat_run))
    assert proc.returncode == 0, proc.stderr
    assert f"note: {heat_run}: " in proc.stdout and "stale for this checkout's code" in proc.stdout
    assert compare_with("--allow-stale", str(heat_run), str(tmp_path / "digit")).returncode != 0


@pytest.mark.workflow
def test_verify_runs_from_a_checkout_whose_path_has_spaces(heat_run, tmp_path):
    """verify.py's default Snakemake command names this checkout's Snakefile: quoted."""
    copy = tmp_path / "my checkout"
    copy.mkdir()
    shutil.copy(ROOT / "Snakefile", copy / "Snakefile")
    for folder in ("envs", "workflow"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "run"
    shutil.copytree(heat_run, work)
    proc = subprocess.run([sys.executable, str(copy / "workflow/scripts/verify.py")], cwd=work,
                          capture_output=True, text=True, timeout=300)
    # another checkout's code inputs: every output is stale for it, and it says so
    assert "--summary failed" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1 and "outputs verified" in proc.stdout
    assert "not current for this config, si_fig1_heat would run" in proc.stdout


# ------------------------------------------------------ records read back: damage and clock skew

def _flip_a_bit(path: Path) -> None:
    """One bit of ``path`` flipped, its mtime put back (Snakemake sees nothing)."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.workflow
def test_a_damaged_result_fails_the_job_that_reads_it_and_is_never_verified(heat_run, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(heat_run, work)
    _flip_a_bit(work / "results/si/heat/heat.npz")
    proc = snakemake(work, "--cores", "1", "--forcerun", "si_fig1_heat")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert ("damaged input, not read:\n  results/si/heat/heat.npz: its bytes changed after its "
            "job (heat_simulate) wrote it") in out, out[-3000:]
    assert not (work / "figures/si/fig1_heat.png").exists()  # nothing built from it
    verify = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/verify.py")], cwd=work,
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 1
    assert "FAIL results/si/heat/heat.npz: its bytes changed" in verify.stdout


def test_verify_counts_nothing_built_from_a_damaged_input(tmp_path, monkeypatch):
    """A reader rebuilt from a file that was already damaged records the damaged hash: its own
    check passes, but the input's record says what its job wrote."""
    from traindyn.records import record_job
    from traindyn.verify import check_bytes
    from traindyn.records import digest

    monkeypatch.chdir(tmp_path)
    Path("log.parquet").write_bytes(b"the log its job wrote")
    record_job("train", ["log.parquet"], [])
    Path("log.parquet").write_bytes(b"the log, damaged later")
    Path("summary.npz").write_bytes(b"built from the damaged log")
    record_job("summary", ["summary.npz"], ["log.parquet"])
    assert check_bytes("summary.npz", digest) == (
        "summary.npz: built from inputs that were not what their jobs wrote (log.parquet): "
        "delete them and it to rebuild them")


@pytest.mark.workflow
def test_a_code_edit_hidden_by_a_skewed_clock_is_seen_by_verify(heat_run, tmp_path):
    """Outputs dated two hours ahead (a host clock ahead): Snakemake compares times and plans
    nothing after a real edit; the records hold the code's hashes, and verify compares those."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copy(ROOT / "Snakefile", copy / "Snakefile")
    for folder in ("envs", "workflow"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(heat_run / "config.yaml", work)
    smk = [SNAKEMAKE, "-s", str(copy / "Snakefile"), "--directory", str(work)]
    assert subprocess.run([*smk, "--cores", "1"], capture_output=True, timeout=300).returncode == 0
    ahead = time.time() + 7200
    for path in [*(work / "results").rglob("*"), *(work / "figures").rglob("*")]:
        os.utime(path, (ahead, ahead))
    heat = copy / "workflow/traindyn/pde/heat.py"
    heat.write_text(heat.read_text() + "\n# edited\n")
    verify = subprocess.run([sys.executable, str(copy / "workflow/scripts/verify.py")], cwd=work,
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 1, verify.stdout
    assert (f"FAIL results/si/heat/heat.npz: not current, built by code that has changed since "
            f"({heat})") in verify.stdout
    # and the dry run stops, naming the rules to force (it planned nothing before)
    dry = subprocess.run([*smk, "-n"], capture_output=True, text=True, timeout=300)
    out = dry.stdout + dry.stderr
    assert dry.returncode != 0 and "Nothing to be done" not in out, out[-2000:]
    assert "4 outputs were built by code that has changed since, but are dated after the " \
           "change" in out and "--forcerun heat_simulate si_fig1_heat" in out, out[-2000:]
    # the escape the message names lets the forced rebuild plan
    forced = subprocess.run([*smk, "-n", "--forcerun", "heat_simulate"], capture_output=True,
                            text=True, timeout=300, env={**os.environ,
                                                         "TRAINDYN_NO_SKEW_CHECK": "1"})
    assert forced.returncode == 0 and "heat_simulate" in forced.stdout, forced.stderr[-2000:]
