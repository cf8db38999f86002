"""Config-file errors that name the file (and line) even where Snakemake reads the file itself.

Snakemake reads every ``--configfile`` before the Snakefile runs, and says only "Config file is
not valid JSON or YAML" (no file, no line), "must be given as JSON or YAML with keys at top
level" for an empty file, and a traceback for a missing one. ``make setup`` puts a one-line
``.pth`` file into the virtual environment (``python -m traindyn.snakemake_hooks --install``);
Python runs it at start-up, and in a ``snakemake`` process :func:`install` makes Snakemake check
each config file with :func:`traindyn.config.check_config_file` first. Any other process only
imports this small module.
"""

from __future__ import annotations

import os
import sys

PTH = "traindyn_snakemake_hooks.pth"
# Only a `snakemake` process imports the package at start-up: any other (a job's step, a script of
# another checkout) must import the traindyn beside it, not this installed one. The Snakefile
# drops those modules when they are another checkout's, before it imports its own.
LINE = ("import os, sys; (os.path.basename(sys.argv[0] if sys.argv else '') == 'snakemake' or "
        "sys.orig_argv[1:3] == ['-m', 'snakemake']) and "
        "__import__('traindyn.snakemake_hooks').snakemake_hooks.install()\n")


def _is_snakemake() -> bool:
    """The `snakemake` script, or `python -m snakemake`."""
    return (os.path.basename(sys.argv[0] if sys.argv else "") == "snakemake"
            or sys.orig_argv[1:3] == ["-m", "snakemake"])


def install() -> None:
    if not _is_snakemake():
        return
    try:
        import snakemake.common.configfile as configfile
        from snakemake.exceptions import WorkflowError
    except ImportError:  # not this environment's Snakemake: leave it alone
        return
    original = configfile._load_configfile

    def load(path, filetype="Config"):
        if isinstance(path, (str, os.PathLike)):
            from .config import ConfigError, check_config_file

            try:
                check_config_file(path)
            except ConfigError as err:
                raise WorkflowError(str(err)) from None
        return original(path, filetype)

    configfile._load_configfile = load


def install_pth() -> str:
    """Write the start-up line into this environment's site-packages; returns its path."""
    import sysconfig

    path = os.path.join(sysconfig.get_paths()["purelib"], PTH)
    with open(path, "w") as fh:
        fh.write(LINE)
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        print(f"traindyn: config-file messages for snakemake installed ({install_pth()})")
    else:
        sys.exit("usage: python -m traindyn.snakemake_hooks --install")
