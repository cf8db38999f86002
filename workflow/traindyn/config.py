"""Config validation with messages that name the offending key path.

The Snakefile runs :func:`check_config` before ``snakemake.utils.validate`` (which fills the schema
defaults), so a bad config stops the workflow before any job starts with every problem listed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The config violates the schema; the message lists each violation with its key path."""


def load_schema(path: str | os.PathLike) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def key_path(parts: Any) -> str:
    """['heat', 'panels', 1] -> 'heat.panels[1]'."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _describe(error: jsonschema.ValidationError, defs: Mapping[str, Any]) -> str:
    where = key_path(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(error.schema.get("properties", {}))
        if "$ref" in error.schema:  # keys declared in the referenced definition count too
            ref = error.schema["$ref"].split("/")[-1]
            allowed = sorted({*allowed, *defs.get(ref, {}).get("properties", {})})
        unknown = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, Mapping) else []
        names = ", ".join(f"{where}.{k}" if where != "<top level>" else k for k in unknown)
        return f"unknown key {names} (allowed here: {', '.join(allowed)})"
    if error.validator == "uniqueItems":
        seen, repeated = [], []
        for v in error.instance:
            (repeated if v in seen and v not in repeated else seen).append(v)
        return f"{where}: {', '.join(map(repr, repeated))} appears more than once [schema rule: uniqueItems]"
    expected = error.schema.get("description")
    hint = f" — {expected}" if expected else ""
    return f"{where}: {error.message} [schema rule: {error.validator}]{hint}"


def non_finite(value: Any, path: tuple = ()) -> list[tuple]:
    """Key paths of every NaN or infinity in ``value`` (list items included)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in non_finite(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite(v, (*path, i))]
    return []


def config_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    # One rule for every numeric key: JSON Schema's bounds let NaN through (every comparison
    # with it is false), and a NaN learning rate or dt trains or plots garbage with exit 0.
    bad = non_finite(config)
    problems = [f"{key_path(p)}: {_get(config, p)} is not a finite number [schema rule: finite] "
                "— NaN and infinities are refused for every numeric key" for p in bad]
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return problems + [_describe(e, schema.get("$defs", {})) for e in errors
                       if tuple(e.absolute_path) not in bad]


def _get(config: Any, path: tuple) -> Any:
    for p in path:
        config = config[p]
    return config


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any] | str | os.PathLike) -> None:
    """Raise :class:`ConfigError` listing every violation of ``schema`` by ``config``."""
    if not isinstance(schema, Mapping):
        schema = load_schema(schema)
    problems = config_errors(config, schema)
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))


def yaml_values(value: Any) -> Any:
    """``--config`` overrides with every string read as YAML. Snakemake types a top-level value
    (``--config seed=3``) but leaves nested ones as text (``--config 'lesde={gpu: 1}'`` gives
    ``'1'``), which the schema would reject."""
    if isinstance(value, Mapping):
        return {k: yaml_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_values(v) for v in value]
    if isinstance(value, str) and value.strip():
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def sorted_keys(value: Any) -> Any:
    """The config with every mapping's keys in sorted order. Snakemake compares rule params as
    text, so the same values written in another key order (a reordered or re-dumped config.yaml)
    would otherwise rerun every job whose params hold a config section."""
    if isinstance(value, Mapping):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def canonicalize(config: dict[str, Any]) -> None:
    """Sort the keys of Snakemake's config in place (it is a module-level dict the rules read)."""
    ordered = sorted_keys(config)
    config.clear()
    config.update(ordered)
