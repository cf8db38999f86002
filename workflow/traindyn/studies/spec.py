"""A study of the config (``studies.<name>``: your model, your data, a recipe, the analyses)
as the pipeline's jobs: plain functions from the validated config section to job parameters and
output paths, shared by the rules and the tests.

Output layout (``name`` is the study's key):

* ``results/studies/<name>/copies/seed<s>.parquet`` (+ ``.divergence.npz``): k perturbed copies
  and the null control of one seed (the instability analysis, SI Table 1 style);
* ``results/studies/<name>/lr/n<n>.parquet`` (+ ``.divergence.npz``): copies at lr / n (SI
  Figure 2 style);
* ``results/studies/<name>/lesde/p<p>/trials<a>-<b>.{steps,val}.parquet`` and ``summary.npz``;
* ``figures/studies/<name>/...``: the figures and tables; ``results/claims/studies/<name>/...``:
  the study's statistics (measurements with uncertainty, no paper expectations).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.registry import facts
from ..lesde.noise import noise_name

ANALYSES = ("instability", "lesde")
LESDE_FIGURES = ("fig1", "fig3", "collapse", "fig5")  # figures/studies/<name>/lesde_<figure>


def enabled(studies: Mapping[str, Any]) -> dict[str, dict]:
    return {name: s for name, s in studies.items() if s["enabled"]}


def data_kwargs(name: str, study: Mapping[str, Any], label_noise: float = 0.0) -> dict:
    """Keyword arguments of :func:`traindyn.data.images.load_images` (plain values)."""
    d = study["data"]
    keys = ("root", "download", "torchvision_class", "classes", "train_per_class",
            "test_per_class", "image_size", "channels", "pixel_noise", "normalize", "seed")
    return dict(name=d["name"], **{k: d[k] for k in keys}, label_noise=label_noise,
                replace=d["replace"])


def _scan(study: Mapping[str, Any]):
    """The scan of an ImageFolder study's tree (None for other data, or a missing root)."""
    from pathlib import Path

    d = study["data"]
    if facts(d["name"]).format != "image-folder" or not d["root"]:
        return None
    if not all((Path(d["root"]) / s).is_dir() for s in ("train", "test")):
        return None
    from ..data.folder_scan import scan_image_folder

    return scan_image_folder(d["root"])


def shape(study: Mapping[str, Any]) -> tuple[int | None, int | None, tuple | None]:
    """(channels, classes, (H, W)) the model will see, from the data set's facts, an ImageFolder
    tree's scan and the study's overrides; None where only a job can tell (a torchvision class,
    or images of different sizes without image_size)."""
    d = study["data"]
    f, scan = facts(d["name"]), _scan(study)
    channels = d["channels"] or (scan.channels if scan else f.channels)
    classes = len(d["classes"]) if d["classes"] else (scan.n_classes if scan else f.n_classes)
    size = d["image_size"]
    size = (size, size) if isinstance(size, int) else tuple(size) if size else (
        scan.image_size if scan else f.image_size)
    return channels, classes, size


def class_names(study: Mapping[str, Any]) -> list[str]:
    """The names of the study's classes in label order (an ImageFolder tree's folder names)."""
    d = study["data"]
    f, scan = facts(d["name"]), _scan(study)
    names = list(scan.classes["train"]) if scan else list(f.class_names or ())
    if not names:
        n = shape(study)[1] or 0
        names = [str(c) for c in range(n)]
    return [names[c] for c in d["classes"]] if d["classes"] else names


def per_class_counts(study: Mapping[str, Any]) -> tuple[int, int] | None:
    """(training, test) images per class the study's jobs read; None where unknown."""
    d = study["data"]
    f, scan = facts(d["name"]), _scan(study)
    if scan:
        keep = d["classes"] or range(scan.n_classes)
        full = [max((scan.counts[s][c] for c in keep), default=0) for s in ("train", "test")]
    elif f.split_sizes and f.n_classes:
        full = [n // f.n_classes for n in f.split_sizes]
    else:
        return None
    return d["train_per_class"] or full[0], d["test_per_class"] or full[1]


def data_digest(study: Mapping[str, Any]) -> str | None:
    """A digest of the data files a study reads (an ImageFolder tree's images, a data set's
    files under its root, a GeoMNIST cache): a parameter of its jobs, so a changed, added or
    removed file reruns exactly that study. None for generated data and torchvision classes."""
    from pathlib import Path

    from ..workdir import file_digest

    d = study["data"]
    f, scan = facts(d["name"]), _scan(study)
    if scan:
        return scan.digest
    if not d["root"] or f.format == "torchvision":
        return None
    base = Path(d["root"]) / (f.folder or "")
    files = [base / m for m in f.files] if f.files else [Path(d["root"])]
    present = [p for p in files if p.exists()]
    return ",".join(file_digest(p) for p in present) or None


def recipe(study: Mapping[str, Any]) -> dict:
    """The SGD recipe of the instability runs."""
    t = study["train"]
    return {k: t[k] for k in ("lr", "momentum", "weight_decay", "nesterov", "batch", "epochs",
                              "milestones", "dtype", "device")}


def model_args(study: Mapping[str, Any]) -> dict:
    return dict(model=study["model"]["name"], model_kwargs=dict(study["model"]["kwargs"]))


def copies_seeds(study: Mapping[str, Any]) -> list[int]:
    inst = study["instability"]
    return list(inst["seeds"]) if inst["enabled"] else []


def _copies(name: str, study: Mapping[str, Any], seed: int, ks: list[int], lr: float) -> dict:
    inst = study["instability"]
    # all tensors kept: the watched layers are the extraction's business, not the training's
    tensors = list(inst["layers"]) if inst["snapshots"]["tensors"] == "watched" else None
    return dict(**model_args(study), data=data_kwargs(name, study), study=name, ks=ks, seed=seed,
                **dict(recipe(study), lr=lr), tensors=tensors,
                divergence_every=inst["divergence_every"], test_batch=inst["test_batch"],
                augment=inst["augment"])


def copies_kwargs(name: str, study: Mapping[str, Any], seed: int) -> dict:
    """One seed's copies: every k of the study and the null control (SI Table 1 style)."""
    return _copies(name, study, seed, list(study["instability"]["ks"]), study["train"]["lr"])


def divisor_kwargs(name: str, study: Mapping[str, Any], n: int) -> dict:
    """The copies at lr / n (k = 1, the divisor runs' k, and the control) of the first seed,
    whose weight divergence against the learning rate is SI Figure 2's question."""
    inst = study["instability"]
    return _copies(name, study, inst["seeds"][0], [1, inst["divisors"]["k"]],
                   study["train"]["lr"] / n)


def divisors(study: Mapping[str, Any]) -> list[int]:
    inst = study["instability"]
    return list(inst["divisors"]["ns"]) if inst["enabled"] else []


def lesde_settings(study: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(setting name, label noise) of the LE-SDE analysis: p0.0, p0.2, ..."""
    les = study["lesde"]
    return [(f"p{noise_name(p)}", p) for p in les["ps"]] if les["enabled"] else []


def lesde_chunks(study: Mapping[str, Any]) -> list[tuple[int, int]]:
    les = study["lesde"]
    return [(a, min(a + les["trials_per_job"], les["trials"]))
            for a in range(0, les["trials"], les["trials_per_job"])]


def trials_kwargs(name: str, study: Mapping[str, Any], p: float, lo: int, hi: int) -> dict:
    les, t = study["lesde"], study["train"]
    return dict(**model_args(study), data=data_kwargs(name, study, p), study=name,
                trials=[lo, hi], iterations=les["iterations"],
                lr=les["lr"] if les["lr"] is not None else t["lr"], seed=t["seed"],
                batch=les["batch"], momentum=les["momentum"], weight_decay=les["weight_decay"],
                log_every=les["log_every"], probe_per_class=les["probe_per_class"],
                eval_every=les["eval_every"], eval_per_class=les["eval_per_class"],
                strategy=les["strategy"], dtype=t["dtype"], device=t["device"])


def data_title(study: Mapping[str, Any]) -> str:
    """How figures name the study's data set: its title, and an ImageFolder tree's folder."""
    d = study["data"]
    f = facts(d["name"])
    if f.format == "image-folder" and d["root"]:
        from pathlib import Path

        return f"{f.title} {Path(d['root']).name}"
    if f.format == "torchvision" and d["torchvision_class"]:
        return str(d["torchvision_class"])
    return f.title


def threads(studies: Mapping[str, Any], w) -> int:
    """The threads the jobs of the study of wildcards ``w`` compute with."""
    return int(studies[w.study]["train"]["threads"])


def model_code(studies: Mapping[str, Any], w) -> list[str]:
    """The model file of the study of wildcards ``w`` and the local files it imports: code
    inputs of its jobs, so editing them replans exactly that study."""
    from ..models.names import model_files

    return model_files(studies[w.study]["model"]["name"])


def metric_code(study: Mapping[str, Any]) -> list[str]:
    """The files of the study's own divergence metrics ('file.py:function', relative to the
    working directory): code inputs of its extraction steps."""
    from pathlib import Path

    return [str(Path(m.rpartition(":")[0]).resolve()) for m in study["instability"]["metrics"]
            if ":" in m]


def root(name: str) -> str:
    return f"results/studies/{name}"


def figures_dir(name: str) -> str:
    return f"figures/studies/{name}"


def copies_outputs(name: str, study: Mapping[str, Any]) -> list[str]:
    return [f"{root(name)}/copies/seed{s}.parquet" for s in copies_seeds(study)]


def divisor_outputs(name: str, study: Mapping[str, Any]) -> list[str]:
    return [f"{root(name)}/lr/n{n}.parquet" for n in divisors(study)]


def divergence_outputs(runs: list[str]) -> list[str]:
    """The divergence extracted from each run's snapshots."""
    return [p.replace(".parquet", ".divergence.npz") for p in runs]


def probe_outputs(name: str, study: Mapping[str, Any]) -> list[str]:
    """The probe logits extracted from each seed's snapshots (none when probes are off)."""
    if not study["instability"]["probe_per_class"]:
        return []
    return [p.replace(".parquet", ".probes.npz") for p in copies_outputs(name, study)]


def probe_kwargs(name: str, study: Mapping[str, Any]) -> dict:
    return dict(**model_args(study), data=data_kwargs(name, study), study=name,
                probe_per_class=study["instability"]["probe_per_class"],
                dtype=study["train"]["dtype"])


def lesde_logs(name: str, study: Mapping[str, Any], setting: str, kind: str) -> list[str]:
    return [f"{root(name)}/lesde/{setting}/trials{a}-{b}.{kind}.parquet"
            for a, b in lesde_chunks(study)]


def lesde_summaries(name: str, study: Mapping[str, Any]) -> list[str]:
    return [f"{root(name)}/lesde/{s}/summary.npz" for s, _ in lesde_settings(study)]


def setting_noise(study: Mapping[str, Any], setting: str) -> float:
    return dict(lesde_settings(study))[setting]


def targets(studies: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Every deliverable of the enabled studies (figures, tables) and their claim files."""
    files, claims = [], []
    for name, s in enabled(studies).items():
        out = figures_dir(name)
        if s["instability"]["enabled"]:
            files += [f"{out}/table1_accuracy.{e}" for e in ("md", "tex", "csv", "pdf", "png")]
            claims.append(f"results/claims/studies/{name}/instability.json")
            if divisors(s):
                files += [f"{out}/fig2_divergence.{e}" for e in ("pdf", "png")]
                claims.append(f"results/claims/studies/{name}/divisors.json")
        if s["lesde"]["enabled"]:
            files += [f"{out}/lesde_{f}.{e}" for f in LESDE_FIGURES for e in ("pdf", "png")]
            claims.append(f"results/claims/studies/{name}/lesde.json")
            if len(s["lesde"]["ps"]) > 1:
                files += [f"{out}/lesde_fig4.{e}" for e in ("pdf", "png")]
    return files, claims
