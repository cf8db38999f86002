"""Config values in the types the schema asks for, before any check reads them.

* Text where the schema wants no text becomes the scalar it spells: Snakemake hands nested
  ``--config`` values over as strings (``lesde={geomnist_noise: {lr: 0.02}}`` gives ``'0.02'``,
  read with YAML's BaseLoader), and PyYAML reads ``1e12`` (no dot) as a string.
* An integral float for an integer key becomes an int (``trials: 3.0``, ``iterations: 4.0e+1``);
  JSON Schema accepts it as an integer already, so every rule and job then sees one type.
* An int for a number key becomes a float (``ps: [0, 0.1]`` -> ``[0.0, 0.1]``): rule parameters
  are compared as text, so ``p=0`` and ``p=0.0`` would be two runs of one value.

Nothing else changes: a string that spells no number (``'many'``) stays and the schema names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


def resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema node with its ``$ref`` merged in: the node's own keys win, and its properties
    are merged one by one with the referenced ones (``trials: {default: 10}`` over ``pos_int``)."""
    if "$ref" not in schema:
        return schema
    ref = resolve(defs[schema["$ref"].split("/")[-1]], defs)
    merged = {**ref, **schema}
    props = dict(ref.get("properties", {}))
    for key, sub in schema.get("properties", {}).items():
        props[key] = {**props.get(key, {}), **sub}
    merged["properties"] = props
    return merged


def _types(node: Mapping[str, Any]) -> set[str]:
    t = node.get("type")
    if t is None and "enum" in node:  # an enum without a type: the types of its values
        return {"string" if isinstance(v, str) else "other" for v in node["enum"]}
    return set(t) if isinstance(t, list) else ({t} if t else set())


def _from_text(text: str, types: set[str]) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and types & {"number", "integer"}:
        try:
            return float(value)  # 1e12, which YAML 1.1 reads as text
        except ValueError:
            return text
    return value if not isinstance(value, (Mapping, list)) else text


def _scalar(value: Any, node: Mapping[str, Any]) -> Any:
    types = _types(node)
    if isinstance(value, str) and types and "string" not in types:
        value = _from_text(value, types)
    if isinstance(value, bool):
        return value
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    if "number" in types and "integer" not in types and isinstance(value, int):
        return float(value)
    return value


def normalize(config: Any, schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None):
    """Bring ``config`` (in place, and returned) to the schema's types as the module says."""
    defs = schema.get("$defs", {}) if defs is None else defs
    node = resolve(schema, defs)
    if isinstance(config, dict):
        props = node.get("properties", {})
        for key, value in config.items():
            if key in props:
                sub = resolve(props[key], defs)
                config[key] = normalize(_scalar(value, sub), sub, defs)
    elif isinstance(config, list) and "items" in node:
        items = resolve(node["items"], defs)
        for i, value in enumerate(config):
            config[i] = normalize(_scalar(value, items), items, defs)
    return config
