"""The studies family (config ``studies``: your model and data through both papers' analyses):
on while any study is enabled; its checks (:mod:`.checks`), its deliverables (:mod:`.spec`)
and its jobs' runtime requests (:mod:`.budget`, read by its rules) live beside this spec
(:class:`traindyn.family.Family`). A study has no paper tier and no size keys of the schema's
fixed layout."""

from __future__ import annotations

from ..family import Family
from .checks import study_errors
from .spec import enabled, targets

FAMILY = Family(
    "studies", targets={}, rules=("studies.smk",),
    checks=lambda config: study_errors(config.get("studies") or {}),
    files=lambda config: targets(config["studies"]),
    on=lambda config: bool(enabled(config["studies"])))
