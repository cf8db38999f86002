"""Checkable paper claims as data: each figure/table step writes a list of verdicts; one step
gathers them into ``figures/claims.md`` (and ``figures/claims.json``).

A claim never passes because data are missing: a missing or non-finite measurement fails. A
builder that knows the run cannot measure a claim (too few settings, a run smaller than the scale
the expected value is for) says ``not-applicable`` with the reason, and keeps whatever value it
did measure, with its uncertainty.

Statistics of an ensemble carry their sampling uncertainty (:mod:`traindyn.stats`): a number of
the paper is judged within a derived tolerance and may be ``inconclusive`` when the run's
uncertainty is too large to tell; a bound is judged on the measurement's 95% interval.

Kinds are kept apart: ``paper`` claims are measured on this run's data against the papers;
``extra`` rows measure something beyond the papers (with our own bands, or none: verdict
``measured``); ``self-check`` claims test the code on synthetic inputs or compare the
configuration with the paper's (they say nothing about whether the run reproduces the paper);
``study`` rows are the statistics of a study of the user's own model and data.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .atomic import write_json, write_text
from .stats import (FAIL, INCONCLUSIVE, PASS, Z, Estimate, agree_verdict, as_estimate,
                    bound_verdict, real_inversions)

NA, MEASURED = "not-applicable", "measured"
# a run whose data cannot carry the statistic (a network at chance, constant logits, no spread):
# named with its reason, never shown as a result
DEGENERATE = "degenerate"
# a number of the paper that this run misses and the authors' own published code misses alike:
# the paper's figure disagrees with the authors' code (still a failure, never a pass)
AUTHORS_CODE = "fail-authors-code"
# the statistic divides by, or takes the log of, a quantity within its noise: it follows the
# noise (e.g. the trial count), not the dynamics, so it can neither pass nor fail
ILL_CONDITIONED = "ill-conditioned"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, NA, MEASURED, DEGENERATE, AUTHORS_CODE, ILL_CONDITIONED)
FAILED = (FAIL, AUTHORS_CODE)  # the verdicts that count as failures
PAPER, EXTRA, SELF_CHECK, STUDY = "paper", "extra", "self-check", "study"
KINDS = (PAPER, EXTRA, SELF_CHECK, STUDY)
ANY_SCALE, PAPER_SCALE = "any", "paper"  # the run scales a claim's expected value is meant for
REFERENCE = ("evaluated by `make reference` (workflow/configs/reference.yaml) and the paper "
             "config, whose ensembles have the paper's size")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str  # "SI" (Surprising Instabilities) or "LE-SDE"
    figure: str  # e.g. "Figure 1", "Table 2"
    statement: str
    measured: Any
    expected: Any
    tolerance: str
    verdict: str
    source: str  # paper section or derivation the expectation comes from
    reason: str = ""  # why it failed or could not be evaluated
    kind: str = PAPER
    uncertainty: Any = None  # standard error(s) of ``measured`` (same shape); None: exact
    method: str = ""  # where the uncertainty comes from (bootstrap, replicates, analytic)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.verdict in (NA, INCONCLUSIVE, DEGENERATE, AUTHORS_CODE,
                            ILL_CONDITIONED) and not self.reason:
            raise ValueError(f"claim {self.id}: a {self.verdict} verdict needs a reason")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} not in {KINDS}")


@dataclass(frozen=True)
class Conditioning:
    """A quantity an estimator takes the log of (``name``), its value where the claim reads it,
    and its noise (the sd of one iteration's value): within its noise when the value lies within
    Z noise sds of zero (or is not finite). ``weight``: the share of the statistic it carries;
    ``reference``: a reference point (t = 0), reported but never deciding (its offset is the
    documented, trial-count-dependent t = 0 offset)."""

    name: str
    value: float
    noise: float = 1.0
    weight: float = 1.0
    reference: bool = False
    in_sd: bool = False  # ``value`` is already |value| / noise (a summary of several quantities)

    @classmethod
    def ratio(cls, name: str, sds: float, **kw) -> "Conditioning":
        return cls(name, float(sds), 1.0, in_sd=True, **kw)

    @property
    def ill(self) -> bool:
        return not abs(self.value) > Z * self.noise  # NaN: ill

    def text(self) -> str:
        if self.in_sd:
            return f"{self.name} {self.value:.3g} sd"
        ratio = abs(self.value) / self.noise if self.noise > 0 else math.inf
        return f"{self.name} = {self.value:.3g} (noise sd {self.noise:.2g}: {ratio:.2g} sd)"


@dataclass(frozen=True)
class AuthorsCode:
    """The statistic as the authors' own published code gives it (``value`` ± ``se``), and where
    that comes from (command, data, trials: ``source``)."""

    value: float
    se: float
    source: str


def finite(x: Any) -> bool:
    """A number, or a non-empty sequence / mapping of numbers, all finite."""
    if isinstance(x, Mapping):
        x = list(x.values())
    if isinstance(x, (list, tuple)):
        return bool(x) and all(finite(v) for v in x)
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _num(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return x


class ClaimSet:
    """Collects the claims of one figure or table.

    ``scale`` is the run's scale ("paper", "quick", "tiny" or None when the run has no scale). A
    claim whose expected value holds only at the paper's ensemble size (``tier="paper"``) is
    evaluated only at that scale; below it, it is not applicable with the measured value, its
    uncertainty and where it is evaluated.
    """

    def __init__(self, paper: str, figure: str, source: str, *, scale: str | None = None,
                 kind: str = PAPER) -> None:
        self.paper, self.figure, self.source = paper, figure, source
        self.scale, self.kind = scale, kind
        self.claims: list[Claim] = []

    def _add(self, id: str, statement: str, measured: Any, expected: Any, tolerance: str,
             verdict: str, reason: str = "", source: str | None = None, *,
             kind: str | None = None, tier: str = ANY_SCALE, uncertainty: Any = None,
             method: str = "") -> Claim:
        if tier == PAPER_SCALE and self.scale not in (None, "paper"):
            verdict, reason = NA, (f"{self.scale} scale: the expected value holds at the paper's "
                                   f"scale; {REFERENCE}")
        claim = Claim(id, self.paper, self.figure, statement, measured, expected, tolerance,
                      verdict, source or self.source, reason, kind or self.kind, uncertainty,
                      method)
        self.claims.append(claim)
        return claim

    def degenerate(self, id: str, statement: str, measured: Any, reason: str, **kw) -> Claim:
        """The run cannot carry this statistic (``reason`` says why): named, never a result."""
        return self._add(id, statement, _num(measured), "-", "-", DEGENERATE, reason, **kw)

    def _compare(self, id, statement, measured, expected, tol, ok: Callable[[float], bool],
                 miss: str, **kw) -> Claim:
        if measured is None:
            return self._add(id, statement, None, expected, tol, FAIL, "no measurement", **kw)
        if not finite(measured):
            return self._add(id, statement, _num(measured), expected, tol, FAIL,
                             "measured value is not finite", **kw)
        good = ok(float(measured))
        return self._add(id, statement, float(measured), expected, tol, PASS if good else FAIL,
                         "" if good else miss, **kw)

    def _estimate(self, id, statement, est: Any, expected: Any, tol: str, verdict: str,
                  reason: str, **kw) -> Claim:
        """Record an Estimate (value, standard error, where the error comes from)."""
        est = as_estimate(est)
        # a bare measurement judges nothing; an ill-conditioned one stays so
        fail = verdict if verdict in (MEASURED, ILL_CONDITIONED) else FAIL
        if not math.isfinite(est.value):
            verdict, reason = fail, "no finite measurement"
        elif not math.isfinite(est.se):
            verdict, reason = fail, "its uncertainty is not finite (too few usable resamples)"
        return self._add(id, statement, est.value, expected, tol, verdict, reason,
                         uncertainty=est.se if est.method != "exact" else None,
                         method="" if est.method == "exact" else est.method, **kw)

    def agree(self, id: str, statement: str, est: Any, expected: float, *, reading: float,
              resolution: float, paper_spread: bool = True, tier: str = PAPER_SCALE,
              conditions: Sequence[Conditioning] = (), authors_code: AuthorsCode | None = None,
              **kw) -> Claim:
        """A number of the paper (read off within ``reading``): PASS within the derived
        tolerance Z sqrt(reading^2 + spread^2 + se^2), FAIL outside it, INCONCLUSIVE when that
        tolerance is at least twice ``resolution`` (:func:`traindyn.stats.agree_verdict`).
        ``paper_spread=False`` for an exact theory value (no run of the paper's behind it).

        ``conditions``: the quantities the estimator takes the log of; when those within their
        noise carry at least half of its weight the verdict is ILL_CONDITIONED
        (:func:`conditioned`). ``authors_code``:
        the statistic by the authors' published code; a FAIL that it shares (agreement within
        Z sqrt(se^2 + its se^2)) is AUTHORS_CODE (:func:`shared_with_authors`)."""
        e = as_estimate(est)
        verdict, tol = agree_verdict(e, expected, reading, resolution, paper_spread)
        spread = f" + one run {e.spread:.2g}²" if paper_spread and e.spread else ""
        text = (f"±{tol:.3g} = {Z:g}√(reading {reading:g}²{spread} + this estimate "
                f"{e.se:.2g}²); resolution {resolution:g}")
        reason = {PASS: "", FAIL: "outside the derived tolerance",
                  INCONCLUSIVE: f"uncertainty too large: the tolerance ({tol:.3g}) is over twice "
                                f"the claim's resolution ({resolution:g})"}[verdict]
        if authors_code is not None:
            verdict, reason = shared_with_authors(e, verdict, reason, authors_code)
        verdict, reason = conditioned(verdict, reason, conditions)
        return self._estimate(id, statement, e, expected, text, verdict, reason, tier=tier,
                              **kw)

    def bound(self, id: str, statement: str, est: Any, lo: float = -math.inf,
              hi: float = math.inf, *, expected: Any = None, **kw) -> Claim:
        """The value lies in [lo, hi], judged on its interval value +- Z se
        (:func:`traindyn.stats.bound_verdict`)."""
        e = as_estimate(est)
        verdict = bound_verdict(e, lo, hi)
        text = _bound_text(lo, hi) + (f" (on value ± {Z:g} se)" if e.se else "")
        reason = {PASS: "", FAIL: "outside the bound beyond its uncertainty",
                  INCONCLUSIVE: "the interval value ± 2 se straddles the bound"}[verdict]
        return self._estimate(id, statement, e, _bound_text(lo, hi) if expected is None
                              else expected, text, verdict, reason, **kw)

    def bound_all(self, id: str, statement: str, ests: Sequence[Any], lo: float = -math.inf,
                  hi: float = math.inf, *, expected: Any = None, **kw) -> Claim:
        """Every value of a list lies in [lo, hi]: FAIL if any fails, else INCONCLUSIVE if any
        is, else PASS."""
        es = [as_estimate(x) for x in ests]
        got = [bound_verdict(e, lo, hi) for e in es]
        verdict = (NA if not got else FAIL if FAIL in got else INCONCLUSIVE
                   if INCONCLUSIVE in got else PASS)
        if verdict == NA:
            return self._add(id, statement, None, expected, "-", FAIL, "no measurement", **kw)
        text = _bound_text(lo, hi) + " each" + (f" (on value ± {Z:g} se)" if any(e.se for e in es)
                                                else "")
        reason = {PASS: "", FAIL: "a value is outside the bound beyond its uncertainty",
                  INCONCLUSIVE: "an interval value ± 2 se straddles the bound"}[verdict]
        exact = all(e.method == "exact" for e in es)
        return self._add(id, statement, [e.value for e in es],
                         _bound_text(lo, hi) + " each" if expected is None else expected, text,
                         verdict, reason, uncertainty=None if exact else [e.se for e in es],
                         method="" if exact else es[0].method, **kw)

    def ordered(self, id: str, statement: str, ests: Sequence[Any], expected: Any, *,
                labels: Sequence[str] | None = None, rising: bool = True,
                allowance: float = 0.0, **kw) -> Claim:
        """A sequence meant to rise (or fall): FAIL on a step the wrong way larger than
        ``allowance`` plus Z times the uncertainty of the difference
        (:func:`traindyn.stats.real_inversions`); smaller steps are within the measurement's
        noise and tolerated."""
        es = [as_estimate(x) for x in ests]
        if len(es) < 2:
            return self._add(id, statement, None, expected, "-", FAIL, "no measurement", **kw)
        sign = 1.0 if rising else -1.0
        drops = real_inversions([replace(e, value=sign * e.value) for e in es], allowance)
        way = "drop" if rising else "rise"
        text = (f"no {way} beyond {allowance:g} + {Z:g}×(se of the difference)" if allowance
                else f"no {way} beyond {Z:g}×(se of the difference)")
        exact = all(e.method == "exact" for e in es)
        measured = [e.value for e in es] if labels is None else dict(
            zip(labels, [e.value for e in es]))
        unc = None if exact else ([e.se for e in es] if labels is None
                                  else dict(zip(labels, [e.se for e in es])))
        return self._add(id, statement, measured, expected, text, FAIL if drops else PASS,
                         f"{way}s beyond the uncertainty: {[round(d, 4) for d in drops]}"
                         if drops else "", uncertainty=unc,
                         method="" if exact else es[0].method, **kw)

    def measure(self, id: str, statement: str, est: Any, *,
                conditions: Sequence[Conditioning] = (), **kw) -> Claim:
        """An unbanded measurement beyond the paper (verdict ``measured``), ILL_CONDITIONED when
        ``conditions`` say so (:func:`conditioned`)."""
        kw.setdefault("kind", EXTRA)
        verdict, reason = conditioned(MEASURED, "", conditions)
        return self._estimate(id, statement, est, "-", "-", verdict, reason, **kw)

    def close(self, id: str, statement: str, measured: Any, expected: float, *,
              atol: float = 0.0, rtol: float = 0.0, **kw) -> Claim:
        """|measured - expected| <= atol + rtol*|expected|."""
        tol = " + ".join(t for t in (f"abs {atol:g}" if atol else "",
                                     f"rel {rtol:g}" if rtol else "") if t) or "exact"
        bound = atol + rtol * abs(expected)
        return self._compare(id, statement, measured, expected, tol,
                             lambda m: abs(m - expected) <= bound, "outside tolerance", **kw)

    def within(self, id: str, statement: str, measured: Any, lo: float, hi: float, *,
               expected: Any = None, **kw) -> Claim:
        """lo <= measured <= hi (a two-sided band: both ends come from the paper)."""
        tol = f"[{lo:g}, {hi:g}]"
        return self._compare(id, statement, measured, tol if expected is None else expected,
                             tol, lambda m: lo <= m <= hi, "outside range", **kw)

    def at_least(self, id: str, statement: str, measured: Any, lo: float, *,
                 expected: Any = None, **kw) -> Claim:
        tol = f">= {lo:g}"
        return self._compare(id, statement, measured, tol if expected is None else expected,
                             tol, lambda m: m >= lo, "below the bound", **kw)

    def at_most(self, id: str, statement: str, measured: Any, hi: float, *,
                expected: Any = None, **kw) -> Claim:
        tol = f"<= {hi:g}"
        return self._compare(id, statement, measured, tol if expected is None else expected,
                             tol, lambda m: m <= hi, "above the bound", **kw)

    def holds(self, id: str, statement: str, ok: bool, measured: Any, expected: Any,
              tolerance: str = "qualitative", *, reason: str = "", **kw) -> Claim:
        """A qualitative or composite condition evaluated by the caller; it fails when there is
        nothing measured (None or an empty collection)."""
        if measured is None or (isinstance(measured, (list, tuple, dict)) and not measured):
            return self._add(id, statement, measured, expected, tolerance, FAIL,
                             "no measurement", **kw)
        return self._add(id, statement, measured, expected, tolerance, PASS if ok else FAIL,
                         "" if ok else (reason or "condition does not hold"), **kw)

    def not_applicable(self, id: str, statement: str, expected: Any, reason: str, *,
                       measured: Any = None, **kw) -> Claim:
        """The run cannot test this claim; ``measured`` keeps what it did measure."""
        return self._add(id, statement, _num(measured), expected, "-", NA, reason, **kw)

    def only_evaluable(self, reason: str, keep: Callable[[str], bool]) -> "ClaimSet":
        """Turn every claim whose id ``keep`` rejects into not-applicable with ``reason`` (for
        runs too small to say anything about the paper's numbers); measured values stay."""
        self.claims = [c if keep(c.id) else replace(c, verdict=NA, reason=reason)
                       for c in self.claims]
        return self

    def write(self, path: str | os.PathLike) -> None:
        write_claims(path, self.claims)


def conditioned(verdict: str, reason: str, conditions: Sequence[Conditioning]) -> tuple[str, str]:
    """Every conditioning quantity goes into the note. The statistic is ill-conditioned when the
    quantities within their noise carry at least half of its weight (reference points aside):
    whatever it measured, a PASS there would be luck and a FAIL says nothing."""
    if not conditions:
        return verdict, reason
    deciding = [c for c in conditions if not c.reference]
    total = sum(c.weight for c in deciding)
    ill = [c for c in deciding if c.ill]
    share = sum(c.weight for c in ill) / total if total > 0 else 0.0
    shown = [c for c in deciding if c.ill or c.weight >= 0.1 or len(deciding) <= 4]
    notes = "; ".join(c.text() for c in shown)
    refs = [c for c in conditions if c.reference]
    if refs:
        notes += ("; reference point (not deciding: its offset is the trial-count-dependent "
                  "t = 0 offset, docs/estimators.md): " + "; ".join(c.text() for c in refs))
    if share < 0.5:
        part = f" ({share:.0%} of the weight within noise)" if ill else ""
        return verdict, "; ".join(x for x in (reason, f"well conditioned{part}: {notes}") if x)
    return ILL_CONDITIONED, (
        f"ill-conditioned: {', '.join(c.name for c in ill)} within {Z:g} sd of zero, "
        f"{share:.0%} of the statistic's weight ({notes}), so the statistic follows the noise "
        f"(it measures the number of trials averaged, not the dynamics); as a number it would "
        f"be {verdict}")


def shared_with_authors(e: Estimate, verdict: str, reason: str,
                        code: AuthorsCode) -> tuple[str, str]:
    """A FAIL that the authors' published code reproduces becomes AUTHORS_CODE; the evidence
    goes into the note either way."""
    tol = Z * math.hypot(e.se, code.se)
    same = math.isfinite(e.value) and abs(e.value - code.value) <= tol
    evidence = (f"the authors' published code gives {code.value:.4g} ± {code.se:.2g} "
                f"({code.source}), {'within' if same else 'outside'} ±{tol:.3g} = "
                f"{Z:g}√(se² + its se²) of this run")
    if verdict == FAIL and same:
        return AUTHORS_CODE, (f"the paper's figure disagrees with the authors' own code: "
                              f"{evidence}")
    return verdict, "; ".join(x for x in (reason, evidence) if x)


def _bound_text(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"<= {hi:g}"
    if math.isinf(hi):
        return f">= {lo:g}"
    return f"[{lo:g}, {hi:g}]"


def write_claims(path: str | os.PathLike, claims: Iterable[Claim]) -> None:
    write_json(path, [asdict(c) for c in claims])


def read_claims(paths: Iterable[str | os.PathLike]) -> list[Claim]:
    """Load claim files; a missing or malformed file is an error naming it, never an empty list."""
    claims: list[Claim] = []
    for path in paths:
        try:
            records = json.loads(Path(path).read_text())
            claims.extend(Claim(**r) for r in records)
        except (OSError, ValueError, TypeError) as err:
            raise ValueError(f"cannot read claims file {path}: {err}") from err
    return claims


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_cell(v) for v in value) + "]"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _measured_cell(value: Any, se: Any) -> str:
    """measured ± standard error, leaf by leaf."""
    if se is None:
        return _cell(value)
    if isinstance(value, (list, tuple)) and isinstance(se, (list, tuple)):
        return "[" + ", ".join(_measured_cell(v, e) for v, e in zip(value, se)) + "]"
    if isinstance(value, Mapping) and isinstance(se, Mapping):
        return "{" + ", ".join(f"{k}: {_measured_cell(v, se.get(k))}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (int, float)) and isinstance(se, (int, float)):
        return f"{value:.4g} ± {se:.2g}"
    return _cell(value)


def _counts(claims: Sequence[Claim]) -> str:
    c = {v: sum(x.verdict == v for x in claims) for v in VERDICTS}
    text = (f"{len(claims)} claims: {c[PASS]} pass, {c[FAIL]} fail"
            + (f", {c[AUTHORS_CODE]} fail as the authors' code does" if c[AUTHORS_CODE] else "")
            + (f", {c[ILL_CONDITIONED]} ill-conditioned" if c[ILL_CONDITIONED] else "")
            + f", {c[INCONCLUSIVE]} inconclusive, {c[NA]} not applicable")
    return (text + (f", {c[MEASURED]} measured" if c[MEASURED] else "")
            + (f", {c[DEGENERATE]} degenerate" if c[DEGENERATE] else ""))


SECTIONS = {
    PAPER: ("Paper claims", "Each row is a checkable claim of the paper, measured on this "
            "run's results."),
    EXTRA: ("Beyond the papers", "Measurements of this run that the papers do not state as "
            "numbers (our own checks and extras); they do not count towards the paper claims."),
    SELF_CHECK: ("Self-checks", "Checks of the code on synthetic inputs, and comparisons of "
                 "the configuration with the paper's. They do not measure the run's results."),
    STUDY: ("Studies", "The papers' analyses on your own models and data (config `studies`): "
            "measurements with their uncertainty, no paper expectations; the null control of "
            "each instability study is a check that can fail."),
}
MARKS = {PASS: "PASS", FAIL: "**FAIL**", INCONCLUSIVE: "inconclusive", NA: "n/a",
         MEASURED: "measured", DEGENERATE: "**DEGENERATE**",
         AUTHORS_CODE: "**FAIL** (authors' code too)", ILL_CONDITIONED: "ill-conditioned"}
LEGEND = ("Measured values of ensemble statistics are shown as value ± one standard error; the "
          "'uncertainty' column says where it comes from (a bootstrap over the ensemble's "
          "independent units, the spread of independent replicate runs, or an analytic "
          "formula). A number of the paper passes within a tolerance derived from its read-off "
          "error, the spread of one run at the paper's ensemble size and our standard error, and "
          "is inconclusive when that tolerance is over twice the deviation the claim is about; "
          "a bound is judged on value ± 2 se. 'FAIL (authors' code too)': the authors' own "
          "published code gives this run's value, not the paper's figure; 'ill-conditioned': "
          "the estimator divides by or takes the log of a quantity within its noise "
          "(docs/claims.md).")


def claims_markdown(claims: Sequence[Claim]) -> str:
    """One Markdown report: summary counts, then paper claims, extras and self-checks in their
    own sections, one table per paper and figure."""
    lines = ["# Claims: verdicts", "", f"**{_counts(claims)}.**", "", LEGEND, ""]
    for kind, (title, blurb) in SECTIONS.items():
        part = [c for c in claims if c.kind == kind]
        lines += [f"## {title}", "", f"{blurb} {_counts(part)}.", ""]
        groups: dict[tuple[str, str], list[Claim]] = {}
        for c in part:
            groups.setdefault((c.paper, c.figure), []).append(c)
        for (paper, figure), group in sorted(groups.items()):
            lines += [f"### {paper} — {figure}", "",
                      "| id | verdict | statement | measured | expected | tolerance | source "
                      "| note | uncertainty |",
                      "|---|---|---|---|---|---|---|---|---|"]
            for c in group:
                cells = [_cell(c.id), MARKS[c.verdict], _cell(c.statement),
                         _measured_cell(c.measured, c.uncertainty),
                         *(_cell(x) for x in (c.expected, c.tolerance, c.source, c.reason,
                                              c.method))]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def gather(claim_files: Iterable[str | os.PathLike], out_md: str | os.PathLike,
           out_json: str | os.PathLike, notice: str | None = None) -> None:
    """All claim files -> ``figures/claims.md`` and, machine-readable, every claim record in one
    ``figures/claims.json`` (what ``make compare`` reads); ``claims.md`` opens with ``notice``
    when there is one (the pipeline's step, :mod:`traindyn.claims_report`, says when)."""
    claims = read_claims(claim_files)
    seen: set[str] = set()
    twice = sorted({c.id for c in claims if c.id in seen or seen.add(c.id)})
    if twice:  # one id, two rows: a comparison of runs could not tell them apart
        raise ValueError(f"claim ids used twice: {', '.join(twice)}")
    write_claims(out_json, claims)
    text = claims_markdown(claims)
    if notice:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n> **{notice}**\n{rest}"
    write_text(out_md, text)


def verdict_summary(claims: Sequence[Claim], md: str = "figures/claims.md") -> str:
    """What a run prints at its end: the counts per kind, where the table is, every failed claim
    with its measurement (± its uncertainty), expectation and reason, and the inconclusive ones."""
    lines = [f"Claims ({md}):"]
    for kind, (title, _) in SECTIONS.items():
        lines.append(f"  {title}: {_counts([c for c in claims if c.kind == kind])}")
    for c in claims:
        if c.verdict == DEGENERATE:
            lines.append(f"  DEGENERATE {c.id} ({c.paper} {c.figure}): {c.statement} -- "
                         f"{c.reason}")
        if c.verdict in FAILED:
            what = "FAIL" if c.verdict == FAIL else "FAIL (authors' code too)"
            lines.append(f"  {what} {c.id} ({c.paper} {c.figure}): {c.statement} -- measured "
                         f"{_measured_cell(c.measured, c.uncertainty)}, expected "
                         f"{_cell(c.expected)} ({c.tolerance}): {c.reason}")
    vague = [c.id for c in claims if c.verdict == INCONCLUSIVE]
    if vague:
        lines.append(f"  inconclusive (uncertainty too large to tell): {', '.join(vague)}")
    ill = [c.id for c in claims if c.verdict == ILL_CONDITIONED]
    if ill:
        lines.append(f"  ill-conditioned (the statistic follows its noise): {', '.join(ill)}")
    return "\n".join(lines)
