"""Checkable paper claims as data: each figure/table step writes a list of verdicts; one step
gathers them into ``figures/claims.md``.

A claim never passes because data are missing: a missing or non-finite measurement fails. A
builder that knows the run cannot measure a claim (too few settings, a quick-scale run) says
``not-applicable`` with the reason, and keeps whatever value it did measure.

Two kinds of claims are kept apart: ``paper`` claims are measured on this run's data;
``self-check`` claims test the code on synthetic inputs or compare the configuration with the
paper's (they say nothing about whether the run reproduces the paper).
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

PASS, FAIL, NA = "pass", "fail", "not-applicable"
VERDICTS = (PASS, FAIL, NA)
PAPER, SELF_CHECK = "paper", "self-check"
KINDS = (PAPER, SELF_CHECK)
ANY_SCALE, PAPER_SCALE = "any", "paper"  # the run scales a claim's expected value is meant for


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
    scale_note: str = ""  # for a failure: whether the run's scale can explain it

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.verdict == NA and not self.reason:
            raise ValueError(f"claim {self.id}: a not-applicable verdict needs a reason")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} not in {KINDS}")


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

    ``scale`` is the run's scale ("paper", "quick", "tiny" or None when the run has no scale);
    a failed claim whose expected value is meant for the paper scale only (``tier="paper"``)
    says so when the run is smaller.
    """

    def __init__(self, paper: str, figure: str, source: str, *, scale: str | None = None,
                 kind: str = PAPER) -> None:
        self.paper, self.figure, self.source = paper, figure, source
        self.scale, self.kind = scale, kind
        self.claims: list[Claim] = []

    def _scale_note(self, verdict: str, tier: str) -> str:
        if verdict != FAIL or self.scale is None:
            return ""
        if tier == PAPER_SCALE and self.scale != "paper":
            return f"expected at paper scale only; this run is {self.scale} scale"
        return "expected at every scale: not explained by the run's scale"

    def _add(self, id: str, statement: str, measured: Any, expected: Any, tolerance: str,
             verdict: str, reason: str = "", source: str | None = None, *,
             kind: str | None = None, tier: str = ANY_SCALE) -> Claim:
        claim = Claim(id, self.paper, self.figure, statement, measured, expected, tolerance,
                      verdict, source or self.source, reason, kind or self.kind,
                      self._scale_note(verdict, tier))
        self.claims.append(claim)
        return claim

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
        self.claims = [c if keep(c.id) else replace(c, verdict=NA, reason=reason, scale_note="")
                       for c in self.claims]
        return self

    def write(self, path: str | os.PathLike) -> None:
        write_claims(path, self.claims)


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


def _counts(claims: Sequence[Claim]) -> str:
    c = {v: sum(x.verdict == v for x in claims) for v in VERDICTS}
    return (f"{len(claims)} claims: {c[PASS]} pass, {c[FAIL]} fail, {c[NA]} not applicable")


SECTIONS = {
    PAPER: ("Paper claims", "Each row is a checkable claim of the paper, measured on this "
            "run's results. A failure says whether the run's scale can explain it."),
    SELF_CHECK: ("Self-checks", "Checks of the code on synthetic inputs, and comparisons of "
                 "the configuration with the paper's. They do not measure the run's results."),
}


def claims_markdown(claims: Sequence[Claim]) -> str:
    """One Markdown report: summary counts, then paper claims and self-checks in their own
    sections, one table per paper and figure."""
    lines = ["# Claims: verdicts", "", f"**{_counts(claims)}.**", ""]
    for kind, (title, blurb) in SECTIONS.items():
        part = [c for c in claims if c.kind == kind]
        lines += [f"## {title}", "", f"{blurb} {_counts(part)}.", ""]
        groups: dict[tuple[str, str], list[Claim]] = {}
        for c in part:
            groups.setdefault((c.paper, c.figure), []).append(c)
        for (paper, figure), group in sorted(groups.items()):
            lines += [f"### {paper} — {figure}", "",
                      "| id | verdict | statement | measured | expected | tolerance | source "
                      "| note | scale |",
                      "|---|---|---|---|---|---|---|---|---|"]
            for c in group:
                mark = {PASS: "PASS", FAIL: "**FAIL**", NA: "n/a"}[c.verdict]
                lines.append("| " + " | ".join(_cell(x) for x in (
                    c.id, mark, c.statement, c.measured, c.expected, c.tolerance, c.source,
                    c.reason, c.scale_note)) + " |")
            lines.append("")
    return "\n".join(lines)


def gather(claim_files: Iterable[str | os.PathLike], out_md: str | os.PathLike,
           out_json: str | os.PathLike) -> None:
    """Snakemake step: all claim files -> ``figures/claims.md`` and, machine-readable, every claim
    record in one ``figures/claims.json`` (what ``make compare`` reads)."""
    claims = read_claims(claim_files)
    write_claims(out_json, claims)
    write_text(out_md, claims_markdown(claims))


def verdict_summary(claims: Sequence[Claim], md: str = "figures/claims.md") -> str:
    """What a run prints at its end: the counts per kind, where the table is, and every failed
    claim with its measurement, expectation, reason and whether the run's scale explains it."""
    lines = [f"Claims ({md}):"]
    for kind, (title, _) in SECTIONS.items():
        lines.append(f"  {title}: {_counts([c for c in claims if c.kind == kind])}")
    for c in claims:
        if c.verdict == FAIL:
            note = f"; {c.scale_note}" if c.scale_note else ""
            lines.append(f"  FAIL {c.id} ({c.paper} {c.figure}): {c.statement} -- measured "
                         f"{_cell(c.measured)}, expected {_cell(c.expected)} "
                         f"({c.tolerance}): {c.reason}{note}")
    return "\n".join(lines)
