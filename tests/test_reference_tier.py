"""The reference tier's scripts: the generated blocks, refusing incomplete runs, the dtype check."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
import reference_table  # noqa: E402

from traindyn.run_record import marker, replace_marked  # noqa: E402


BEGIN, END = marker("reference-verdicts"), marker("reference-verdicts", end=True)


def test_a_marked_block_is_replaced_between_its_markers():
    readme = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    assert replace_marked(readme, "reference-verdicts", "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    for bad in ("no markers here", f"{END}\n{BEGIN}", readme + readme):
        with pytest.raises(SystemExit, match="expected one <!-- reference-verdicts:begin -->"):
            replace_marked(bad, "reference-verdicts", "new")


def test_the_generated_blocks_are_where_the_scripts_write_them():
    """The README holds the reference counts; docs/reference.md the verdicts, docs/benchmarks.md
    the bench table (the Makefile's `make bench` writes there)."""
    for page, name in (("README.md", "reference-counts"), ("docs/reference.md", "reference-verdicts"),
                       ("docs/benchmarks.md", "bench")):
        text = (ROOT / page).read_text()
        assert text.count(marker(name)) == 1 and text.count(marker(name, end=True)) == 1, page
    assert "--doc docs/benchmarks.md" in (ROOT / "Makefile").read_text()


def test_the_readme_counts_are_the_last_verdicts_counts():
    readme = (ROOT / "README.md").read_text()
    block = readme.split(marker("reference-counts"))[1].split(marker("reference-counts", True))[0]
    page = (ROOT / "docs/reference.md").read_text()
    counts = re.search(r"\*\*Paper claims: .*? Self-checks: [^.]*\.", block).group(0)
    assert counts in page
    assert "docs/reference.md#the-last-verdicts" in readme and "## The last verdicts" in page


def test_the_readme_counts_block_is_built_from_the_claims(tmp_path, monkeypatch):
    from traindyn.claims import Claim

    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "claims.md").write_text("x")
    claims = [Claim("X1", "SI", "Figure 1", "s", 1.0, 1.0, "exact", "pass", "src"),
              Claim("X2", "SI", "Figure 1", "s", 2.0, 1.0, "exact", "fail", "src")]
    text = reference_table.counts_block(claims, tmp_path)
    assert "**Paper claims: 2 claims: 1 pass, 1 fail, 0 inconclusive, 0 not applicable.**" in text
    assert "(docs/reference.md#the-last-verdicts)" in text


def test_an_empty_run_directory_is_refused_and_nothing_is_written(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\nkeep\n{END}\n")
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/reference_table.py"),
                           "--dir", str(tmp_path / "run"), "--readme", str(readme),
                           "--page", str(readme), "--docs", str(tmp_path / "verdicts.md")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "is not a complete, current reference run" in proc.stderr
    assert "lesde_train" in proc.stderr  # the dry run's plan names what is missing
    assert "keep" in readme.read_text() and not (tmp_path / "verdicts.md").exists()


def test_claim_files_that_differ_from_the_gathered_table_are_refused(tmp_path):
    from traindyn.claims import Claim, claims_markdown, write_claims

    run = tmp_path / "run"
    claim = Claim("X1", "SI", "Figure 1", "s", 1.0, 1.0, "exact", "pass", "src")
    (run / "figures").mkdir(parents=True)
    write_claims(run / "results" / "claims" / "a.json", [claim])
    (run / "figures" / "claims.md").write_text(claims_markdown([claim]))
    assert reference_table.run_claims(run)[0].id == "X1"
    write_claims(run / "results" / "claims" / "leftover.json", [claim])
    with pytest.raises(SystemExit, match="not the ones"):
        reference_table.run_claims(run)


def test_dtype_check_without_float64_logs_says_what_to_run(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/dtype_check.py"),
                           "--float32", str(tmp_path), "--float64", str(tmp_path / "f64"),
                           "--out", str(tmp_path / "out.md")], capture_output=True, text=True)
    assert proc.returncode == 1 and "make reference-float64" in proc.stderr
    assert not (tmp_path / "out.md").exists()


def test_the_float64_overlay_passes_the_config_checks(tmp_path):
    """The float64 check merges over config.yaml and reference.yaml: their replicates must not
    leak into its four-level (p = 0 and three around the transition), 50-trial comparison."""
    from test_workflow import planned_jobs_cmd

    configs = [str(ROOT / f) for f in ("config.yaml", "workflow/configs/reference.yaml",
                                       "workflow/configs/reference_float64.yaml")]
    jobs = planned_jobs_cmd(["-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                             "--configfile", *configs])
    assert jobs["lesde_train"] == 4
