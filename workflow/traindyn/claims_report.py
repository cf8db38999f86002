"""The claims step of the pipeline: every figure's claims gathered into ``figures/claims.md``
and ``figures/claims.json``, opened by a note when any LE-SDE training job of the run fell back
to the torch path (:mod:`traindyn.lesde.fallback`). It composes a family's facts with the
shared claims module, so it sits above the families (the pipeline tier)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .claims import gather as gather_claims
from .lesde.fallback import fallback_notice, torch_fallbacks


def gather(claim_files: Iterable[str | os.PathLike], out_md: str | os.PathLike,
           out_json: str | os.PathLike, training_logs: Iterable[str] = ()) -> None:
    """Snakemake step: the claims, with the torch-path note read from ``training_logs`` (inputs
    of the step, so it runs after every training job)."""
    gather_claims(claim_files, out_md, out_json,
                  notice=fallback_notice(torch_fallbacks(training_logs)))
