"""Read a config file as data, nothing else: the project's one YAML reader for config files.

Snakemake's own reader runs YTE templates (a file with ``__use_yte__: true`` has its ``?...``
expressions evaluated as Python), keeps the last of two equal keys (a repeated top-level section
silently drops every key of the first) and expands aliases (a small "alias bomb" takes hours).
This reader refuses all of these, naming the file, the line(s) and the key path, and refuses a
file too large to be a config before parsing it, so every answer comes in well under a second.
The Snakefile builds ``config`` from this reader only (docs/config_files.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, key_path

# The repository's config.yaml is about 12 kB; a config file 80 times that is a mistake.
MAX_BYTES = 1 << 20
# Deeper than any config (the schema's deepest key path has 5 parts); PyYAML itself recurses.
MAX_DEPTH = 32
YTE_KEY = "__use_yte__"


class _Refused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader (no Python objects) that also refuses anchors, aliases and deep nesting."""

    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(line, "YAML anchors and aliases (&name, *name) are refused in config "
                                 "files: write each value where it is used")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_keys(loader: yaml.Loader, node: yaml.Node, path: tuple) -> None:
    """Duplicate keys, merge keys (``<<``), non-scalar keys and the YTE switch, anywhere."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(loader, item, (*path, i))
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(line, f"a key under {key_path(path)} is not a plain name")
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(line, f"merge key `<<` under {key_path(path)} is refused in config "
                                 "files: write the keys out")
        key = loader.construct_object(key_node)
        if key == YTE_KEY:
            raise _Refused(line, f"`{YTE_KEY}` is refused: a config file is data, and YTE "
                                 "templates would run its `?...` expressions as Python code")
        where = key_path((*path, key))
        if key in seen:
            what = (f"top-level section `{key}:` appears twice (lines {seen[key]} and {line}); "
                    "YAML would keep only the second and silently drop every key of the first: "
                    "merge them" if not path else
                    f"key {where} is written twice (lines {seen[key]} and {line}); YAML would "
                    "silently keep only the last: write it once")
            raise _Refused(line, what)
        seen[key] = line
        _check_keys(loader, value_node, (*path, key))


def parse(text: str, name: str) -> Any:
    """The YAML document in ``text`` as plain data, or :class:`ConfigError` naming ``name``."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_keys(loader, node, ())
        return loader.construct_document(node)
    except _Refused as err:
        raise ConfigError(f"config file {name}, line {err.line}: {err.message}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark else name
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()


def load(path: str | os.PathLike) -> dict[str, Any]:
    """A config file's keys; :class:`ConfigError` naming the file for anything else."""
    if not os.path.exists(path):
        raise ConfigError(f"config file {path} does not exist (a --configfile path is relative "
                          f"to the directory snakemake runs in: {os.getcwd()})")
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise ConfigError(f"config file {path} is {size:,} bytes: config files are limited to "
                          f"{MAX_BYTES:,} (the repository's config.yaml is about 12 kB)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not UTF-8 text ({err.reason} at byte "
                          f"{err.start})") from None
    data = parse(text, str(path))
    if data is None:
        raise ConfigError(f"config file {path} is empty: write the keys to set (the "
                          "repository's config.yaml lists them), or `{}` to keep every default")
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {path} must hold a mapping of keys (targets:, heat:, "
                          f"...), not a {type(data).__name__}")
    return data


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` merged into ``base`` (in place) as Snakemake merges config files: mappings
    merge key by key, any other value replaces."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            base[key] = merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def build_config(default: str | None, configfiles: Iterable[str | os.PathLike],
                 overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The run's config from files read by :func:`load` only: ``default`` (the workflow's
    config.yaml; None to skip it), then each ``--configfile`` in order, then ``--config``
    ``overrides``. Nothing Snakemake parsed from a file is used. A missing ``default`` is
    skipped (as Snakemake's ``configfile:`` directive does) when other files are given."""
    from .config import yaml_values

    config: dict[str, Any] = {}
    files = [*([default] if default is not None and os.path.exists(default) else []),
             *configfiles]
    if not files:
        raise ConfigError("no config file: this directory has no config.yaml and no "
                          "--configfile was given (the repository's config.yaml is the template)")
    for path in files:
        merge(config, load(path))
    return merge(config, yaml_values(dict(overrides)))


if __name__ == "__main__":
    import sys

    # `python -m traindyn.configfile FILE...`: check files before handing them to snakemake,
    # which evaluates a --configfile's YTE template itself before the Snakefile can refuse it.
    status = 0
    for arg in sys.argv[1:]:
        try:
            load(arg)
            print(f"{arg}: ok")
        except ConfigError as err:
            print(f"traindyn: {err}", file=sys.stderr)
            status = 1
    if not sys.argv[1:]:
        sys.exit("usage: python -m traindyn.configfile CONFIG_FILE...")
    sys.exit(status)
