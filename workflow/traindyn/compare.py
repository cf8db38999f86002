"""What changed between two runs: the claims whose verdict or measured value differ, and the config
keys that differ (``make compare A=dir B=dir``).

Each run directory holds ``figures/claims.json`` (the claims rule: a list of claim records keyed by
``id``) and ``figures/run_config.json`` (the ``run_config`` rule: the run's merged, validated,
canonical config). Records are compared by ``id`` on ``verdict`` and ``measured`` only, so fields
added to the records later neither break nor clutter the comparison.

Also which config a documented run belongs to (:func:`config_hash`, :func:`file_mismatch`): the
hash README.md and docs/targets.md quote with the quick run's numbers
(``workflow/scripts/budget_table.py``), so a test can tell when they are older than the config.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .atomic import write_json

__all__ = ["report"]

CLAIMS = "figures/claims.json"
CONFIG = "figures/run_config.json"


def write_run_config(out: str, config: Mapping[str, Any]) -> None:
    """Snakemake step: the config this run used."""
    write_json(out, json.loads(json.dumps(config, sort_keys=True)))


class RunError(ValueError):
    """A run that cannot be compared: missing, unreadable, incomplete, stale or damaged files."""


def _load(run: str | os.PathLike, name: str) -> Any:
    path = Path(run) / name
    if not path.is_file():
        raise RunError(f"{path} is missing: is {run} a complete run of this pipeline? "
                       "(snakemake --directory <it> writes it)")
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise RunError(f"{path} is not valid JSON ({err}): truncated or damaged; rebuild it "
                       f"(snakemake --directory {run} --forcerun claims)") from None
    if name == CLAIMS and not (isinstance(value, list) and all(
            isinstance(c, Mapping) and "id" in c for c in value)):
        raise RunError(f"{path} is not a list of claim records with an id: damaged")
    return value


def check_run(run: str | os.PathLike, snakemake: list[str], allow_stale: bool = False) -> str:
    """:class:`RunError` unless every output of ``run`` passes ``make verify``'s checks against
    the config the run recorded (``figures/run_config.json``): the message says which outputs
    are missing (incomplete), would be rebuilt (stale: e.g. other code) or damaged. With
    ``allow_stale`` (two runs of different code), stale outputs are only named: the returned
    note, empty when there are none."""
    from contextlib import chdir

    from .verify import verify

    config = Path(run).resolve() / CONFIG
    _load(run, CONFIG)
    with chdir(run):
        result = verify([*snakemake, "--configfile", str(config), "--replace-workflow-config"])
    kinds = {k: v for k, v in result.kinds.items() if v and not (allow_stale and k == "stale")}
    if kinds:
        parts = [f"{kind}: {len(problems)} outputs, e.g. {problems[0]}"
                 for kind, problems in kinds.items()]
        raise RunError(f"{run} is not a finished, current, undamaged run ({len(result.current)} "
                       f"outputs verified, {len(result.problems)} problems):\n  "
                       + "\n  ".join(parts) + f"\n(`make verify` in {run} lists them all; "
                       "ALLOW_STALE=1 compares runs of different code)")
    stale = result.kinds["stale"]
    return (f"{run}: {len(stale)} outputs stale for this checkout's code (allowed), e.g. "
            f"{stale[0]}" if stale else "")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1} (lists are values)."""
    if isinstance(value, Mapping) and value:
        out = {}
        for key in value:
            out.update(flatten(value[key], f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def config_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key path, value in A, value in B) of every key that differs; a missing key is None."""
    fa, fb = flatten(a), flatten(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def config_hash(path: str | os.PathLike) -> str:
    """The first 12 hex digits of the SHA-256 of the config file's values (key order, comments
    and layout do not count)."""
    with open(path) as f:
        values = _canonical(yaml.safe_load(f))
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def file_mismatch(recorded: Mapping[str, Any], path: str | os.PathLike) -> str:
    """'' when every value the config file sets is the run's recorded one (the run's config is
    the file plus defaults), else the first key that differs."""
    with open(path) as f:
        given = flatten(_canonical(yaml.safe_load(f)))
    run = flatten(_canonical(recorded))
    for key, value in given.items():
        if key not in run:
            return f"{key} is not in the run's config"
        if run[key] != value:
            return f"{key}: {value!r} in the file, {run[key]!r} in the run"
    return ""


def claim_changes(a: list[dict], b: list[dict]) -> list[tuple[str, dict | None, dict | None]]:
    """(id, record in A, record in B) of every claim whose verdict or measured value differs, or
    that only one run has, in A's order and then B's."""
    ra, rb = {c["id"]: c for c in a}, {c["id"]: c for c in b}
    ids = list(ra) + [i for i in rb if i not in ra]
    key = ("verdict", "measured")
    return [(i, ra.get(i), rb.get(i)) for i in ids
            if i not in ra or i not in rb or any(ra[i].get(k) != rb[i].get(k) for k in key)]


def _short(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def report(a: str | os.PathLike, b: str | os.PathLike) -> str:
    """The comparison as text (what ``make compare`` prints)."""
    claims = claim_changes(_load(a, CLAIMS), _load(b, CLAIMS))
    config = config_changes(_load(a, CONFIG), _load(b, CONFIG))
    lines = [f"A = {a}", f"B = {b}", "",
             f"Config keys that differ: {len(config)}"]
    lines += [f"  {key}: {_short(x)} -> {_short(y)}" for key, x, y in config]
    n = len(_load(a, CLAIMS))
    lines += ["", f"Claims whose verdict or measured value changed: {len(claims)} (of {n} in A)"]
    for cid, x, y in claims:
        if x is None or y is None:
            lines.append(f"  {cid}: only in {'B' if x is None else 'A'} "
                         f"({(x or y).get('verdict')}, measured {_short((x or y).get('measured'))})")
            continue
        verdict = (x.get("verdict") if x.get("verdict") == y.get("verdict")
                   else f"{x.get('verdict')} -> {y.get('verdict')}")
        measured = (_short(x.get("measured")) if x.get("measured") == y.get("measured")
                    else f"{_short(x.get('measured'))} -> {_short(y.get('measured'))}")
        lines.append(f"  {cid} ({x.get('paper', '')} {x.get('figure', '')}): verdict {verdict}; "
                     f"measured {measured}")
    return "\n".join(lines)
