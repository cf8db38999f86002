"""The public API holds still: every name docs/library.md lists is importable from its module,
is in that module's ``__all__``, and keeps the call signature recorded here; names that moved
still work from their old place with a DeprecationWarning."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import warnings

import numpy as np
import pytest

from conftest import ROOT

# The call signature of every public name (annotations left out: the parameters, their kinds
# and defaults are what callers depend on). None: a constant or an exception class. Changing an
# entry is changing the public API: say so in the docs, and keep the old form working with a
# DeprecationWarning for at least one release.
SIGNATURES = {
    "traindyn.data.images.load_images": "(name, root=None, *, download=False, torchvision_class=None, classes=None, train_per_class=None, test_per_class=None, replace=False, image_size=None, channels=None, label_noise=0.0, pixel_noise=0.0, normalize='standardize', seed=0, geomnist=None, dtype=torch.float32, device='cpu', key='data')",
    "traindyn.data.images.data_errors": "(name, root=None, *, download=False, torchvision_class=None, classes=None, train_per_class=None, test_per_class=None, image_size=None, replace=False, normalize='standardize', key='data', **_)",
    "traindyn.data.images.ImageSet": "(name, x_train, y_train, x_test, y_test, true_train, class_names)",
    "traindyn.data.noise.corrupt_labels": "(y, p, n_classes, rng)",
    "traindyn.data.noise.pixel_noise": "(x, sigma, stream)",
    "traindyn.data.registry.facts": "(name)",
    "traindyn.data.registry.DatasetFacts": "(name, title, format, channels, n_classes, image_size, split_sizes, folder, files, class_names, source, downloadable)",
    "traindyn.models.names.resolve_model": "(name, kwargs=None, *, key='model', workdir=None)",
    "traindyn.models.names.ModelFactory": "(name, kwargs=<factory>, fn=None, files=())",
    "traindyn.models.names.ModelError": None,  # type
    "traindyn.models.checks.model_errors": "(name, kwargs=None, *, channels, n_classes, image_size, key='model', workdir=None, sample=None)",
    "traindyn.models.flops.step_flops": "(model, *, channels, image_size, n_classes, batch=1)",
    "traindyn.lesde.LogWriter": "(stem, *, n_classes, trials, iterations, eval_every, log_every=1, rows_per_step=1, metadata=None, flush_rows=200000)",
    "traindyn.lesde.writer.LogWriter": "(stem, *, n_classes, trials, iterations, eval_every, log_every=1, rows_per_step=1, metadata=None, flush_rows=200000)",
    "traindyn.lesde.analysis.analyze_logs": "(log_dir, out_dir, *, name=None, figures=('fig1_separation', 'fig3_impacts', 'neural_collapse', 'fig5_leode'), window=None, tail_n=None, sim_trials=100, seed=0, n_boot=200, paper_claims=False)",
    "traindyn.lesde.estimators.estimate_ab_i": "(means)",
    "traindyn.lesde.estimators.estimate_ab_l": "(means)",
    "traindyn.lesde.estimators.tail_index": "(x, tail_n=1000)",
    "traindyn.lesde.summary.summarize": "(out, steps, vals, *, n_samples=50, runs=None)",
    "traindyn.lesde.trials.train_trials": "(model_factory, data, stem, *, study, trials, iterations, lr, seed=0, batch=1, momentum=0.0, weight_decay=0.0, log_every=1, probe_per_class=0, eval_every=None, eval_per_class=None, strategy='auto', dtype='float64', device='cpu', gpus=0, metadata=None)",
    "traindyn.lesde.trials.TrialsResult": "(strategy, params, steps_log, val_log, trial_steps_per_s)",
    "traindyn.lesde.noise.noise_name": "(p)",
    "traindyn.instab.train_copies": "(model_factory, data, ks, *, lr, epochs, batch=128, momentum=0.0, weight_decay=0.0, nesterov=False, milestones=(), seed=0, layers=(), divergence_every=None, test_batch=1000, augment=False, dtype='float32', device='cpu', gpus=0, snapshot=None)",
    "traindyn.instab.copies.train_copies": "(model_factory, data, ks, *, lr, epochs, batch=128, momentum=0.0, weight_decay=0.0, nesterov=False, milestones=(), seed=0, layers=(), divergence_every=None, test_batch=1000, augment=False, dtype='float32', device='cpu', gpus=0, snapshot=None)",
    "traindyn.instab.copies.CopiesResult": "(ks, test_acc, train_loss, train_acc, control_identical, divergence_steps, divergence=<factory>, logit_zero=<factory>, logit_spread=<factory>)",
    "traindyn.instab.optimizer.PerturbedSGD": "(params, ks, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)",
    "traindyn.instab.figures.deep.build_table1": "(runs, md, tex, csv, pdf, png, claims, *, stat_epochs, config, n_train=None)",
    "traindyn.instab.figures.deep.build_fig2": "(runs, pdf, png, claims, *, config)",
    "traindyn.pde.linear.linear_bounds": "(model, gram)",
    "traindyn.pde.linear.LinearBounds": "(lambda_max, lambda_min, fft_bound, beta)",
    "traindyn.pde.one_layer.OneLayer": "(image, ksize, beta=1.0, dtype=torch.float64, device='cpu')",
    "traindyn.divergence.model_divergence": "(model_a, model_b, parameter=None)",
    "traindyn.divergence.relative_l1_divergence": "(a, b, axis=None)",
    "traindyn.atomic.load_npz": "(path)",
    "traindyn.compare.report": "(a, b)",
    "traindyn.scales.SCALES": None,  # dict
    "traindyn.scales.NOT_PAPER": None,  # dict
    "traindyn.scales.TOO_SMALL": None,  # dict
    "traindyn.scales.PAPER": None,  # str
    "traindyn.scales.QUICK": None,  # str
    "traindyn.scales.TINY": None,  # str
    "traindyn.scales.is_paper": "(name, section)",
    "traindyn.scales.tier": "(name, section)",
}


def documented() -> dict[str, list[str]]:
    """module -> public names, from docs/library.md's "Public API" table."""
    text = (ROOT / "docs" / "library.md").read_text()
    section = text[text.index("## Public API"):text.index("Moved names")]
    return {module: re.findall(r"`(\w+)`", names)
            for module, names in re.findall(r"^\| `(traindyn[\w.]*)` \| (.*) \|$", section, re.M)}


def bare(obj) -> str:
    sig = inspect.signature(obj)
    return str(sig.replace(
        parameters=[p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()],
        return_annotation=inspect.Signature.empty))


def test_the_recorded_signatures_are_the_documented_names():
    names = {f"{module}.{n}" for module, ns in documented().items() for n in ns}
    assert len(names) >= 40
    assert names == set(SIGNATURES)


@pytest.mark.parametrize("module", sorted(documented()))
def test_a_modules_all_lists_its_documented_names(module):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(documented()[module])
    assert len(mod.__all__) == len(set(mod.__all__))


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_each_public_name_imports_with_its_recorded_signature(name):
    module, _, attr = name.rpartition(".")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no public name is a deprecated one
        obj = getattr(importlib.import_module(module), attr)
    if SIGNATURES[name] is None:
        assert not callable(obj) or isinstance(obj, type)
    else:
        assert bare(obj) == SIGNATURES[name]


def test_public_functions_called_as_documented():
    from traindyn.data.noise import corrupt_labels
    from traindyn.divergence import relative_l1_divergence
    from traindyn.lesde.estimators import estimate_ab_i, tail_index
    from traindyn.lesde.noise import noise_name
    from traindyn.pde.linear import linear_bounds
    from traindyn.pde.one_layer import OneLayer
    from traindyn.scales import SCALES, tier

    y = np.repeat(np.arange(3), 100)
    noisy = corrupt_labels(y, 0.3, 3, np.random.default_rng(0))
    assert noisy.shape == y.shape and 0.2 < np.mean(noisy != y) < 0.4
    assert relative_l1_divergence(np.ones(4), np.ones(4)) == 0
    means = np.random.default_rng(0).normal(size=(50, 3, 3))
    a, b = estimate_ab_i(means)
    assert a.shape == b.shape == (50,) and np.isfinite(tail_index(np.arange(1.0, 51), tail_n=20))
    assert noise_name(2 / 3) == "0.67"
    model = OneLayer(np.random.default_rng(1).normal(size=(16, 16)), ksize=4)
    bounds = linear_bounds(model, model.gram())
    assert 0 < bounds.alpha_min < bounds.alpha_max(1e-3)
    name = next(iter(SCALES))
    assert tier(name, {}) in ("paper", "quick", "tiny")


@pytest.mark.parametrize("old, new", [
    ("traindyn.lesde.noise:corrupt_labels", "traindyn.data.noise:corrupt_labels"),
    ("traindyn.scales:TABLE", "traindyn.scales:SCALES"),
])
def test_a_moved_name_works_from_its_old_place_with_a_warning(old, new):
    old_module, old_name = old.split(":")
    new_module, new_name = new.split(":")
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old_module}.{old_name} moved to "
                                                          f"{new_module}.{new_name}")):
        obj = getattr(importlib.import_module(old_module), old_name)
    assert obj is getattr(importlib.import_module(new_module), new_name)
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(old_module), "no_such_name")


def test_the_moved_figure_module_is_served_from_its_old_path_with_a_warning():
    import sys

    sys.modules.pop("traindyn.figures.si_deep", None)  # the warning comes on first import
    with pytest.warns(DeprecationWarning, match="traindyn.figures.si_deep moved to "
                                                "traindyn.instab.figures.deep"):
        from traindyn.figures.si_deep import build_table1, table1_stats
    from traindyn.instab.figures import deep
    assert build_table1 is deep.build_table1 and table1_stats is deep.table1_stats


def test_build_table1_without_n_train_warns_and_judges_t4b_on_the_plain_value(tmp_path):
    from traindyn.instab.figures import deep

    with pytest.warns(DeprecationWarning, match="build_table1 without n_train"):
        try:
            deep.build_table1([], *(str(tmp_path / f) for f in ("t.md", "t.tex", "t.csv", "t.pdf",
                                                                 "t.png", "c.json")),
                              stat_epochs=1, config={})
        except ValueError:  # no runs to read: the warning comes first
            pass
    assert deep.train_acc_estimate(0.96, None) == 0.96
    assert deep.train_acc_estimate(0.96, 900).se > 0


@pytest.mark.parametrize("old, new", [("traindyn.lesde.seeds", "traindyn.seeds"),
                                      ("traindyn.instab.resnet", "traindyn.models.resnet")])
def test_moved_shared_modules_still_import_with_a_warning(old, new):
    sys.modules.pop(old, None)  # the warning comes on first import
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module.MOVED_TO == new and dir(importlib.import_module(new))


def test_simpleconv_still_imports_from_the_lesde_model_with_a_warning():
    from traindyn.models.simpleconv import SimpleConv

    with pytest.warns(DeprecationWarning, match="SimpleConv moved to traindyn.models"):
        from traindyn.lesde.model import SimpleConv as old
    assert old is SimpleConv
