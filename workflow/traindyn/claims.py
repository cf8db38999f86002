"""Checkable paper claims as data: each figure/table step writes a list of verdicts; one step
gathers them into ``figures/claims.md``.

A claim never passes because data are missing: a value that cannot be measured gives the verdict
``not-applicable`` with the reason, and a non-finite measurement where a number was expected fails.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .atomic import write_json, write_text

PASS, FAIL, NA = "pass", "fail", "not-applicable"
VERDICTS = (PASS, FAIL, NA)


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

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.verdict == NA and not self.reason:
            raise ValueError(f"claim {self.id}: a not-applicable verdict needs a reason")


def _finite(x: Any) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in (x if isinstance(x, Sequence) else [x]))
    except (TypeError, ValueError):
        return False


class ClaimSet:
    """Collects the claims of one figure or table and writes them as one JSON file."""

    def __init__(self, paper: str, figure: str, source: str) -> None:
        self.paper, self.figure, self.source = paper, figure, source
        self.claims: list[Claim] = []

    def _add(self, id: str, statement: str, measured: Any, expected: Any, tolerance: str,
             verdict: str, reason: str = "", source: str | None = None) -> Claim:
        claim = Claim(id, self.paper, self.figure, statement, measured, expected, tolerance,
                      verdict, source or self.source, reason)
        self.claims.append(claim)
        return claim

    def close(self, id: str, statement: str, measured: Any, expected: float, *,
              atol: float = 0.0, rtol: float = 0.0, source: str | None = None) -> Claim:
        """|measured - expected| <= atol + rtol*|expected|; a non-finite measurement fails."""
        tol = " + ".join(t for t in (f"abs {atol:g}" if atol else "", f"rel {rtol:g}" if rtol else "") if t)
        if measured is None:
            return self._add(id, statement, None, expected, tol, NA, "no measurement", source)
        if not _finite(measured):
            return self._add(id, statement, measured, expected, tol, FAIL,
                             "measured value is not finite", source)
        ok = abs(float(measured) - expected) <= atol + rtol * abs(expected)
        return self._add(id, statement, float(measured), expected, tol, PASS if ok else FAIL,
                         "" if ok else "outside tolerance", source)

    def within(self, id: str, statement: str, measured: Any, lo: float, hi: float, *,
               source: str | None = None, expected: Any = None) -> Claim:
        """lo <= measured <= hi; a non-finite measurement fails."""
        tol = f"[{lo:g}, {hi:g}]"
        shown = expected if expected is not None else tol
        if measured is None:
            return self._add(id, statement, None, shown, tol, NA, "no measurement", source)
        if not _finite(measured):
            return self._add(id, statement, measured, shown, tol, FAIL,
                             "measured value is not finite", source)
        ok = lo <= float(measured) <= hi
        return self._add(id, statement, float(measured), shown, tol, PASS if ok else FAIL,
                         "" if ok else "outside range", source)

    def holds(self, id: str, statement: str, ok: bool, measured: Any, expected: Any,
              tolerance: str = "qualitative", *, reason: str = "",
              source: str | None = None) -> Claim:
        """A qualitative or composite condition evaluated by the caller."""
        return self._add(id, statement, measured, expected, tolerance, PASS if ok else FAIL,
                         "" if ok else (reason or "condition does not hold"), source)

    def not_applicable(self, id: str, statement: str, expected: Any, reason: str, *,
                       source: str | None = None) -> Claim:
        return self._add(id, statement, None, expected, "-", NA, reason, source)

    def only_evaluable(self, reason: str, keep: Callable[[str], bool]) -> "ClaimSet":
        """Turn every claim whose id ``keep`` rejects into not-applicable with ``reason`` (for
        runs too small to say anything about the paper's numbers)."""
        self.claims = [c if keep(c.id) else Claim(c.id, c.paper, c.figure, c.statement, None,
                                                   c.expected, "-", NA, c.source, reason)
                       for c in self.claims]
        return self

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, [asdict(c) for c in self.claims])


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


def claims_markdown(claims: Sequence[Claim]) -> str:
    """One Markdown report: summary counts, then one table per paper and figure."""
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    lines = [
        "# Paper claims: verdicts",
        "",
        f"**{len(claims)} claims: {counts[PASS]} pass, {counts[FAIL]} fail, "
        f"{counts[NA]} not applicable.**",
        "",
        "Each row is a checkable claim from `shared/papers/*.md` evaluated on this run's results.",
        "",
    ]
    groups: dict[tuple[str, str], list[Claim]] = {}
    for c in claims:
        groups.setdefault((c.paper, c.figure), []).append(c)
    for (paper, figure), group in sorted(groups.items()):
        lines += [f"## {paper} — {figure}", "",
                  "| id | verdict | statement | measured | expected | tolerance | source | note |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in group:
            mark = {PASS: "PASS", FAIL: "**FAIL**", NA: "n/a"}[c.verdict]
            lines.append("| " + " | ".join(_cell(x) for x in (
                c.id, mark, c.statement, c.measured, c.expected, c.tolerance, c.source, c.reason
            )) + " |")
        lines.append("")
    return "\n".join(lines)


def gather(claim_files: Iterable[str | os.PathLike], out_md: str | os.PathLike) -> None:
    """Snakemake step: all claim files -> ``figures/claims.md``."""
    write_text(out_md, claims_markdown(read_claims(claim_files)))
