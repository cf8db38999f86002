"""Checks of a schema-valid, default-filled config that one key alone cannot express: values in
the schema's types (:mod:`.config_types`), then every family's rules across keys (its spec in
:mod:`.families`), the data the enabled families read (:mod:`.data.checks`) and the memory and
time their jobs would need (:mod:`.sizes`). All run before any job (the Snakefile calls
:func:`check_filled_config`), and every problem names its key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import ConfigError
from .config_types import normalize
from .data.checks import data_errors
from .families import FAMILIES, data_uses
from .sizes import size_errors


def check_filled_config(config: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Values in the schema's types, then raise :class:`ConfigError` listing every cross-key,
    data and size problem."""
    normalize(config, schema)
    problems = [p for family in FAMILIES for p in family.checks(config)]
    problems += data_errors(config, data_uses(config)) + size_errors(config)
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))
