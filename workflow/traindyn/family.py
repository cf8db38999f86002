"""What a figure family is to the rest of the pipeline: a :class:`Family` spec, kept in the
family's own package (``traindyn/<package>/family.py``) and listed in :mod:`traindyn.families`.

The shared modules loop over the registry and know no family: the config checks
(:mod:`traindyn.config_checks`) run every family's rules across keys and check the data its jobs
read, :mod:`traindyn.sizes` refuses a job that would need too much memory or time, and
:mod:`traindyn.scales` answers which tier a config runs at; ``rules/common.smk`` builds the
targets of ``rule all`` from the families' target rules and files. The types below are the
vocabulary of those parts (this module imports nothing of the package).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Config = Mapping[str, Any]

PAPER, QUICK, TINY = "paper", "quick", "tiny"

# Rates of the size estimates of numpy / FFT work (training jobs use traindyn.budget's).
CPU_GFLOPS = 2.0  # sustained rate of the numpy / torch FFT tracks on one CPU core (conservative)
BLAS_GFLOPS = 20.0  # the same for matrix products
LOOP_SECONDS = 2e-5  # one iteration of an interpreted loop of a few array operations


@dataclass(frozen=True)
class Need:
    """The memory and time one job (or step) of a config would need (:mod:`traindyn.sizes`)."""
    keys: tuple[str, ...]  # the config keys that set this size
    what: str  # the job (or step) that would need it
    bytes: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class DataUse:
    """A data set (a name of :mod:`traindyn.data.registry`) that a family's jobs read."""
    dataset: str
    keys: tuple[str, ...]  # the config keys that make the jobs read it (named in messages)
    per_class: tuple[int, int] | None = None  # a GeoMNIST cache: (train, val) images per class


_MISSING = object()


def _get(section: Mapping[str, Any], path: str) -> Any:
    value: Any = section
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return len(value) if path.endswith("seeds") else value


def _meets(value: Any, want: Any, at_least: bool) -> bool:
    if value is _MISSING:
        return False
    return value >= want if at_least else value == want


@dataclass(frozen=True)
class Scale:
    """One tier table of a family: the paper's settings and the least a run needs to test the
    qualitative claims, as dotted key paths into the family's config section (a list of seeds
    counts by its length), and why claims are not applicable below the paper or the least."""
    paper: Mapping[str, Any]
    least: Mapping[str, Any] = field(default_factory=dict)
    too_small: str | None = None  # the reason shown by claims that need the least settings
    not_paper: str | None = None  # the reason shown by claims that need the paper's settings

    def is_paper(self, section: Mapping[str, Any]) -> bool:
        """The section holds the paper's settings (a paper run may have more trials than the
        paper; everything else must be equal)."""
        return all(_meets(_get(section, k), v, k == "trials") for k, v in self.paper.items())

    def tier(self, section: Mapping[str, Any]) -> str:
        """``paper``, ``quick`` or ``tiny`` (see :mod:`traindyn.scales`)."""
        if self.is_paper(section):
            return PAPER
        meets = all(_meets(_get(section, k), v, True) for k, v in self.least.items())
        return QUICK if meets else TINY


def _none(config: Config) -> list:
    return []


@dataclass(frozen=True)
class Family:
    """One figure family: its targets, rules files and the parts the shared modules loop over.
    Its jobs' runtime cost (functions returning :class:`traindyn.budget.Work`) sits in the same
    spec module, read by its own rules only."""
    name: str
    # config key under `targets` -> the figure/table rules whose outputs `rule all` asks for
    targets: Mapping[str, tuple[str, ...]]
    rules: tuple[str, ...]  # its files under workflow/rules/, included in this order
    checks: Callable[[Config], list[str]] = _none  # rules across keys, one message per problem
    needs: Callable[[Config], list[Need]] = _none  # memory and time of its jobs (when enabled)
    data: Callable[[Config], list[DataUse]] = _none  # data sets its enabled jobs read
    scales: Mapping[str, Scale] = field(default_factory=dict)  # tier tables by name
    not_sizes: Mapping[str, str] = field(default_factory=dict)  # integer keys needing no estimate
    # deliverables that are files rather than rule outputs, and their claim files
    files: Callable[[Config], tuple[list[str], list[str]]] = lambda config: ([], [])
    on: Callable[[Config], bool] | None = None  # enabled other than by its `targets` keys

    def enabled(self, config: Config) -> bool:
        if self.on is not None:
            return self.on(config)
        return any(config["targets"][key] for key in self.targets)
