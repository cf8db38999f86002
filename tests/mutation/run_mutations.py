"""Mutation check of the analysis and claims layer (run on demand, not by pytest).

Each mutation plants one realistic bug in a scratch copy of the repository (a temporary
directory), runs the fast tests that should notice it, and expects them to fail. The table says
which mutations were caught and by which test. Usage:

    python tests/mutation/run_mutations.py [--keep] [name ...]

Exit status 1 when a mutation survives, the unmutated tests fail, or a mutation no longer
applies (its code changed: update the list).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIB = "workflow/traindyn/"


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository root
    old: str  # must occur exactly once
    new: str
    tests: tuple[str, ...]


T_CLAIMS = "tests/test_claims.py"
T_LESDE = "tests/test_lesde_analysis.py"
T_PDE = "tests/test_pde_dynamics.py"
T_SI_PDE = "tests/test_claims_si_pde.py"
T_SI_DEEP = "tests/test_claims_si_deep.py"
T_PHASE = "tests/test_claims_lesde_phase.py"
T_DYN = "tests/test_claims_lesde_dynamics.py"
T_STATS = "tests/test_stats.py"

MUTATIONS = [
    Mutation("L estimator: wrong sign of B-hat", LIB + "lesde/estimators.py",
             "b = (a_plus_b - a_minus_b) * (k - 1) / k",
             "b = (a_minus_b - a_plus_b) * (k - 1) / k", (T_LESDE,)),
    Mutation("LE-ODE: unnormalized projector d d^T", LIB + "lesde/leode.py",
             'np.einsum("ci,cj->cij", d, d) / np.sum(d * d, axis=1)[:, None, None]',
             'np.einsum("ci,cj->cij", d, d)', (T_LESDE,)),
    Mutation("summary: class means by true class, not training label", LIB + "lesde/summary.py",
             "means_y, counts_y = class_means(itr, y, logits, t_max, k)",
             "means_y, counts_y = class_means(itr, true, logits, t_max, k)", (T_LESDE,)),
    Mutation("Figure 2: divergence of a copy with itself", LIB + "instab/steps.py",
             "relative_l1_divergence(w[a], w[b])", "relative_l1_divergence(w[a], w[a])",
             (T_SI_DEEP,)),
    Mutation("claim F2b-3: condition inverted", LIB + "instab/figures/deep.py",
             'cs.at_most("F2b-3"', 'cs.at_least("F2b-3"', (T_SI_DEEP,)),
    Mutation("close(): relative tolerance applied as absolute", LIB + "claims.py",
             "bound = atol + rtol * abs(expected)", "bound = atol + rtol", (T_CLAIMS,)),
    Mutation("PDE logged loss: weight-decay term doubled", LIB + "pde/nonlinear.py",
             "loss[:, t] = bce + alpha / 2 * (w * w).sum(dim=(1, 2))",
             "loss[:, t] = bce + alpha * (w * w).sum(dim=(1, 2))", (T_PDE,)),
    Mutation("L6/L7: tolerance on the growth factor instead of the rate",
             LIB + "pde/figures/linear.py",
             "growth_rate(series[which][i], half, T) - 1.0",
             "growth_rate(series[which][i], half, T)", (T_SI_PDE,)),
    Mutation("holds(): an empty measurement passes", LIB + "claims.py",
             "if measured is None or (isinstance(measured, (list, tuple, dict)) and not measured):",
             "if measured is None:", (T_CLAIMS,)),
    Mutation("H2b: an unstable run that never blows up is n/a", LIB + "pde/figures/heat.py",
             'elif st["unstable_run"] and st["steps"] >= 914:', "elif False:", (T_SI_PDE,)),
    Mutation("tail index: negation rule inverted", LIB + "lesde/estimators.py",
             "if np.mean(tail < 0) > 0.5:", "if np.mean(tail < 0) < 0.5:", (T_LESDE,)),
    Mutation("I estimator: sign of B-hat", LIB + "lesde/estimators.py",
             "b = -np.log(np.abs(", "b = np.log(np.abs(", (T_LESDE,)),
    Mutation("divergence metric: factor 2 dropped", LIB + "divergence.py",
             "return 2.0 * ratio.mean(axis=axis)", "return ratio.mean(axis=axis)",
             (T_PDE, T_SI_PDE)),
    Mutation("Table 1: std across seeds with ddof = 1", LIB + "instab/figures/deep.py",
             "std_seed = grid.std(axis=1, ddof=0)", "std_seed = grid.std(axis=1, ddof=1)",
             (T_SI_DEEP,)),
    Mutation("U4: label counts per log row, not per example", LIB + "lesde/summary.py",
             "pairs = np.unique(np.stack([smp, true, label], axis=1), axis=0)",
             "pairs = np.stack([smp, true, label], axis=1)", (T_LESDE,)),
    Mutation("U4: half/half split swapped", LIB + "lesde/figures/phase.py",
             "want = [flipped // 2, flipped - flipped // 2]",
             "want = [flipped - flipped // 2, flipped // 2]", (T_PHASE,)),
    Mutation("F4b-7: accuracy ordering checked as rising", LIB + "lesde/figures/phase.py",
             'labels=[noise_name(p) for p in lv], rising=False)',
             'labels=[noise_name(p) for p in lv], rising=True)', (T_PHASE,)),
    Mutation("LE-ODE: beta step uses alpha", LIB + "lesde/leode.py",
             "(beta[t] / k) * q).T\n        mean[t]", "(alpha[t] / k) * q).T\n        mean[t]",
             (T_LESDE,)),
    Mutation("Figure 2: final divergence from the first saves", LIB + "instab/figures/deep.py",
             "float(np.mean(d[-3:])) if len(d)", "float(np.mean(d[:3])) if len(d)",
             (T_SI_DEEP,)),
    Mutation("F3-8: local elasticity without |B|", LIB + "lesde/figures/dynamics.py",
             "elastic=a_t - 5 * abs(b_t) - 5", "elastic=a_t - 5 * b_t - 5", (T_DYN,)),
    # The sampling-uncertainty layer (traindyn.stats, lesde.ensemble) and its verdicts.
    Mutation("tolerance: the paper run's spread dropped", LIB + "stats.py",
             "spread = est.spread if paper_spread else 0.0", "spread = 0.0", (T_STATS,)),
    Mutation("agree: never inconclusive", LIB + "stats.py",
             "return (INCONCLUSIVE if tol >= 2 * resolution else PASS), tol",
             "return PASS, tol", (T_STATS, T_PHASE)),
    Mutation("bound: a straddled bound passes", LIB + "stats.py",
             "        return FAIL\n    return INCONCLUSIVE", "        return FAIL\n    return PASS",
             (T_STATS,)),
    Mutation("orderings: uncertainty of a step ignored", LIB + "stats.py",
             "drop > allowance + Z * math.hypot(a.se, b.se)", "drop > allowance", (T_STATS,)),
    Mutation("replicates: se not divided by sqrt(R)", LIB + "stats.py",
             "return Estimate(mean, sd / math.sqrt(r), sd, method)",
             "return Estimate(mean, sd, sd, method)", (T_STATS,)),
    Mutation("bootstrap: resample ignores the drawn trials", LIB + "lesde/ensemble.py",
             "np.bincount(idx, minlength=labels.shape[1] // rows)",
             "np.ones(labels.shape[1] // rows, dtype=np.int64)", (T_STATS,)),
    Mutation("claims: paper-scale claims evaluated at every scale", LIB + "claims.py",
             'if tier == PAPER_SCALE and self.scale not in (None, "paper"):', "if False:",
             (T_CLAIMS,)),
    Mutation("T2: chi-square error without the factor 2", LIB + "instab/figures/deep.py",
             "math.sqrt(1 / (2 * d_pert) + 1 / (2 * d_seed))",
             "math.sqrt(1 / d_pert + 1 / d_seed)", (T_SI_DEEP,)),
    Mutation("normalization-free drop from t = 0 on", LIB + "lesde/figures/dynamics.py",
             "EARLY = (1, 501)", "EARLY = (0, 501)", (T_DYN,)),
    Mutation("Table 2: search bracket kept on a stable end of the scan", LIB + "pde/linear.py",
             "if len(edges) == 2 and not stable[j, 0] and stable[j, edges[0] + 1]:",
             "if len(edges) >= 1:", (T_PDE,)),
]


def scratch_copy(dest: Path) -> None:
    """The repository's tracked and untracked, not ignored files (what a checkout holds)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           check=True, capture_output=True, text=True).stdout.split()
    for rel in files:
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)


def run_tests(root: Path, tests: tuple[str, ...]) -> tuple[bool, str]:
    """(passed, first failing test)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           *tests], cwd=root, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
    return proc.returncode == 0, failed.group(1) if failed else out.strip()[-200:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only mutations whose name contains one")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.names or any(n in m.name for n in args.names)]
    tmp = Path(tempfile.mkdtemp(prefix="traindyn-mutations-"))
    root = tmp / "repo"
    scratch_copy(root)
    try:
        every = tuple(sorted({t for m in chosen for t in m.tests}))
        ok, first = run_tests(root, every)
        if not ok:
            print(f"the unmutated tests fail ({first}): fix them first")
            return 1
        rows, bad = [], 0
        for m in chosen:
            path = root / m.path
            original = path.read_text()
            if original.count(m.old) != 1:
                rows.append((m.name, "STALE", f"'{m.old[:40]}...' not found exactly once"))
                bad += 1
                continue
            path.write_text(original.replace(m.old, m.new))
            try:
                passed, first = run_tests(root, m.tests)
            finally:
                path.write_text(original)
            rows.append((m.name, "no" if passed else "yes", "-" if passed else first))
            bad += passed
        width = max(len(r[0]) for r in rows)
        print(f"{'mutation':<{width}}  caught?  by test")
        print(f"{'-' * width}  -------  -------")
        for name, caught, by in rows:
            print(f"{name:<{width}}  {caught:<7}  {by}")
        print(f"\n{sum(r[1] == 'yes' for r in rows)} of {len(rows)} mutations caught")
        return 1 if bad else 0
    finally:
        if args.keep:
            print(f"scratch copy kept in {tmp}")
        else:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
