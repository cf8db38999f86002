"""Code edits that Snakemake cannot see because of the clock.

Snakemake reruns a job when a code input is newer than its output. An output dated after an edit
(a host clock ahead, results copied from another machine, code copied with its old timestamps)
hides the edit: the dry run plans nothing and the output keeps the old code's result. Each
output's record holds the hashes of the code its job ran (:mod:`traindyn.records`); this module
finds the outputs whose code has changed by content although no code file is newer than them,
so the Snakefile can stop before planning.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from .records import RECORDS, digest


def hidden_code_edits(library: str, records: str | os.PathLike = RECORDS
                      ) -> list[tuple[str, str, list[str]]]:
    """(output, rule, changed files) for every recorded output that exists, whose job's code
    under ``library`` (this checkout's ``workflow/``) has changed by content, and that is not
    older than any of those files (so Snakemake would call it current)."""
    lib = os.path.realpath(library) + os.sep
    hashed = lru_cache(maxsize=None)(digest)
    out = []
    for dirpath, _, files in os.walk(records):
        for name in files:
            try:
                with open(os.path.join(dirpath, name)) as fh:
                    record = json.load(fh)
                when = os.path.getmtime(record["output"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # no output (verify's business), or a record of another format
            changed = [p for p, h in (record.get("code") or {}).items()
                       if os.path.realpath(p).startswith(lib) and os.path.isfile(p)
                       and os.path.getmtime(p) <= when and hashed(p) != h]
            if changed:
                out.append((record["output"], record.get("rule", "?"), changed))
    return sorted(out)


def skew_message(hidden: list[tuple[str, str, list[str]]]) -> str:
    rules = sorted({rule for _, rule, _ in hidden})
    output, _, changed = hidden[0]
    return (f"{len(hidden)} outputs were built by code that has changed since, but are dated "
            f"after the change (a clock ahead, or files copied with their timestamps), so "
            f"Snakemake would call them current: e.g. {output} ({', '.join(changed[:3])}). "
            f"Rebuild them: TRAINDYN_NO_SKEW_CHECK=1 snakemake ... --forcerun {' '.join(rules)}")
