"""The studies family (config ``studies``: your model and data through both papers' analyses):
on while any study is enabled; its checks (:mod:`.checks`), its deliverables (:mod:`.spec`)
and its jobs' runtime requests and sizes (:mod:`.budget`, read by its rules and by
:mod:`traindyn.sizes`) live beside this spec (:class:`traindyn.family.Family`). A study has no
paper tier; its size keys are refused by the estimates of :func:`.budget.needs`."""

from __future__ import annotations

from ..family import Config, Family, Need
from .checks import study_errors
from .spec import enabled, targets


def checks(config: Config) -> list[str]:
    from .budget import plan_errors

    studies = config.get("studies") or {}
    errs = [e for name, s in enabled(studies).items()
            for e in plan_errors(name, s, config["cluster"]["max_runtime_minutes"],
                                 config["budget"])]
    return errs or study_errors(studies)


def needs(config: Config) -> list[Need]:
    """The studies' job sizes; a study whose model or data do not load has none (its checks
    say why)."""
    from .budget import needs as study_needs

    out = []
    for name, s in enabled(config["studies"]).items():
        try:
            out += study_needs(name, s, config["budget"])
        except Exception:  # the model or data spec is broken: study_errors names it
            continue
    return out


FAMILY = Family(
    "studies", targets={}, rules=("studies.smk",), checks=checks, needs=needs,
    files=lambda config: targets(config["studies"]),
    on=lambda config: bool(enabled(config["studies"])))
