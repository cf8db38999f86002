"""Claims of SI Table 1 and Figure 2, and Figure 2's divergence of two copies."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from claim_cases import assert_all_pass, verdicts

from traindyn.claims import FAIL, INCONCLUSIVE, NA, PASS
from traindyn.instab.figures.deep import (fig2_claims, fig2_stats, log_ratio_se, optimizer_stats,
                                      table1_claims, table1_stats)
from traindyn.instab.optimizer import split
from traindyn.instab.steps import copy_divergence, fig2_run
from traindyn.models.resnet import CopiesResNet, init_copies

OPTIMIZER = dict(P1=True, P3=[True, True, True], P4=[0.02, 1.2e-7])


def _table1(ratio=1.0, distinct=(3, 3, 3), control=True, plateau=0.004, train_acc=0.99,
            se=0.18):
    return {"relu": dict(ratio=ratio, log_ratio_se=se, distinct=list(distinct), control=control,
                         plateau=plateau, train_acc=train_acc, window=2)}


def t1(st, optimizer=OPTIMIZER, paper=True, scale="paper"):
    return table1_claims(st, optimizer, paper_config=paper, scale=scale)


def test_table1_good_statistics_pass():
    assert_all_pass(t1(_table1()))


@pytest.mark.parametrize("cid, st, optimizer", [
    ("T2[relu]", _table1(ratio=3.5), OPTIMIZER),  # log 3.5 - 2 x 0.18 > log 2
    ("T2[relu]", _table1(ratio=0.25), OPTIMIZER),
    ("T2[relu]", _table1(ratio=math.nan), OPTIMIZER),  # no spread across seeds at all
    ("T3[relu]", _table1(distinct=(3, 1, 3)), OPTIMIZER),
    ("P2[relu]", _table1(control=False), OPTIMIZER),
    ("T4a[relu]", _table1(plateau=0.05), OPTIMIZER),  # still moving: not converged
    ("T4a[relu]", _table1(plateau=math.nan), OPTIMIZER),  # too few epochs to tell
    ("T4b[relu]", _table1(train_acc=0.8), OPTIMIZER),
    ("T4b[relu]", _table1(train_acc=math.nan), OPTIMIZER),  # not logged
    ("P1", _table1(), dict(OPTIMIZER, P1=False)),
    ("P3", _table1(), dict(OPTIMIZER, P3=[True, False, True])),
    ("P4", _table1(), dict(OPTIMIZER, P4=[0.0, 0.0])),  # k = 3 changed nothing
    ("P4", _table1(), dict(OPTIMIZER, P4=[0.02, 1e-3])),  # far more than an ulp
])
def test_table1_claim_can_fail(cid, st, optimizer):
    assert verdicts(t1(st, optimizer))[cid] == FAIL


def test_t4b_is_judged_with_the_binomial_error_of_a_running_accuracy():
    def t4b(acc, n):
        return {c.id: c for c in table1_claims(_table1(train_acc=acc), OPTIMIZER,
                                               paper_config=True, scale="paper",
                                               n_train=n)}["T4b[relu]"]
    # 900 images: se 0.0076 at 0.9456, so 0.9456 + 2 se straddles 0.95
    assert t4b(0.9456, 900).verdict == INCONCLUSIVE
    assert t4b(0.9456, 900).uncertainty == pytest.approx(math.sqrt(0.9456 * 0.0544 / 900))
    assert t4b(0.9456, 50000).verdict == FAIL and t4b(0.90, 900).verdict == FAIL
    assert t4b(0.97, 900).verdict == PASS and "binomial" in t4b(0.97, 900).method
    assert t4b(math.nan, 900).verdict == FAIL  # not logged


def test_t2_is_judged_on_its_log_with_the_analytic_error():
    assert verdicts(t1(_table1(ratio=1.5, se=0.41)))["T2[relu]"] == INCONCLUSIVE  # 3 x 3 runs
    assert verdicts(t1(_table1(ratio=1.2, se=0.18)))["T2[relu]"] == PASS  # 6 x 6 runs
    got = {c.id: c for c in t1(_table1(ratio=1.2, se=0.18))}["T2[relu]"]
    assert got.uncertainty == pytest.approx(1.2 * 0.18) and "analytic" in got.method
    assert log_ratio_se(6, 6) == pytest.approx(math.sqrt(2 / 60))
    assert math.isnan(log_ratio_se(1, 3))


def test_table1_config_claim_is_a_self_check_and_not_applicable_off_paper():
    claims = {c.id: c for c in t1(_table1(), paper=False, scale="quick")}
    assert claims["T1"].verdict == NA and claims["T1"].kind == "self-check"
    assert {claims[c].kind for c in ("P1", "P3", "P4")} == {"self-check"}
    assert claims["T2[relu]"].kind == "paper" and claims["T2[relu]"].verdict == PASS
    tiny = verdicts(t1(_table1(), paper=False, scale="tiny"))
    assert tiny["T2[relu]"] == NA and tiny["P2[relu]"] == PASS and tiny["P1"] == PASS


def test_every_table1_claim_has_a_failing_case():
    assert set(verdicts(t1(_table1()))) == {"T1", "T2[relu]", "T3[relu]", "T4a[relu]",
                                            "T4b[relu]", "P1", "P2[relu]", "P3", "P4"}
    # T1 cannot fail: it is n/a off the paper configuration (tested above)


def test_optimizer_self_checks_pass_on_the_real_optimizer():
    st = optimizer_stats()
    assert st["P1"] and all(st["P3"]) and 0 < st["P4"][0] <= 0.05


def test_table1_stats_pooled_stds_by_hand():
    rows = []
    acc = {(1, 1): 0.90, (3, 1): 0.92, (1, 2): 0.94, (3, 2): 0.94}  # (k, seed) -> accuracy
    for (k, seed), a in acc.items():
        for epoch in range(3):
            rows.append(dict(activation="relu", seed=seed, copy=int(k == 3), k=k, control=False,
                             epoch=epoch, test_acc=a if epoch > 0 else 0.1,
                             control_identical=True, train_acc=0.97 + 0.01 * epoch))
    st = table1_stats(pd.DataFrame(rows), stat_epochs=2)["relu"]
    # converged over the last two epochs (no change), lowest final training accuracy 0.99
    assert st["plateau"] == 0.0 and st["train_acc"] == pytest.approx(0.99)
    moving = pd.DataFrame(rows).assign(test_acc=lambda d: d.test_acc + 0.03 * d.epoch)
    assert table1_stats(moving, stat_epochs=2)["relu"]["plateau"] == pytest.approx(0.03)
    # across k: seed 1 std 0.01, seed 2 std 0 -> pooled sqrt(0.0001/2)
    assert st["pooled_pert"] == pytest.approx(np.sqrt(0.0001 / 2))
    # across seeds: k=1 std 0.02, k=3 std 0.01 -> pooled sqrt((0.0004 + 0.0001)/2)
    assert st["pooled_seed"] == pytest.approx(np.sqrt(0.0005 / 2))
    assert st["distinct"] == [2, 1] and st["control"]


# --- Figure 2 ----------------------------------------------------------------------------------

EPS = 1.19e-7
FIG2 = dict(finals={0.1: 1e-2, 0.025: 1e-4, 0.00625: 5e-7}, floor=EPS)


def f2(st, paper=True, scale="paper"):
    return fig2_claims(st, paper_config=paper, scale=scale)


def test_fig2_good_statistics_pass():
    assert_all_pass(f2(FIG2))


@pytest.mark.parametrize("cid, finals", [
    ("F2b-1", {0.1: 1e-2, 0.025: 1e-1, 0.00625: 5e-7}),   # a smaller lr diverges more
    ("F2b-1", {0.1: 1e-2, 0.025: math.nan, 0.00625: 5e-7}),
    ("F2b-2", {0.1: 5e-5, 0.025: 1e-5, 0.00625: 5e-7}),   # largest lr < 1e3 x floor
    ("F2b-3", {0.1: 1e-2, 0.025: 1e-4, 0.00625: 5e-6}),   # smallest lr > 10 x floor
    ("F2b-3", {0.1: 1e-2, 0.025: 1e-4, 0.00625: math.inf}),
])
def test_fig2_claim_can_fail(cid, finals):
    assert verdicts(f2(dict(FIG2, finals=finals)))[cid] == FAIL


def test_fig2_missing_data_never_passes():
    got = verdicts(f2(dict(FIG2, finals={})))
    assert got["F2b-1"] == NA and got["F2b-2"] == FAIL and got["F2b-3"] == FAIL
    assert verdicts(f2(dict(FIG2, finals={0.1: 1e-2})))["F2b-1"] == NA
    assert verdicts(f2(FIG2, paper=False, scale="quick"))["F2a"] == NA


def test_f2b2_needs_the_papers_number_of_updates_at_the_largest_lr():
    short = {c.id: c for c in f2(dict(FIG2, updates_largest=40))}["F2b-2"]
    assert short.verdict == NA and "40 updates" in short.reason and short.measured > 1e3
    assert verdicts(f2(dict(FIG2, updates_largest=200)))["F2b-2"] == PASS


def test_f2b3_needs_one_of_the_papers_small_learning_rates():
    """At n = 32 (the reference tier's smallest) the claim is not the paper's small-lr one."""
    large = {c.id: c for c in f2(dict(FIG2, smallest_n=32))}["F2b-3"]
    assert large.verdict == NA and "base/32" in large.reason and large.measured is not None
    assert verdicts(f2(dict(FIG2, smallest_n=320)))["F2b-3"] == PASS
    worse = dict(FIG2, smallest_n=32000, finals={0.1: 1e-2, 0.025: 1e-4, 3.1e-6: 5e-6})
    assert verdicts(f2(worse))["F2b-3"] == FAIL


def test_fig2_stats_orders_by_lr_and_averages_the_last_three_saves():
    st = fig2_stats([0.025, 0.1], [np.array([1.0, 2.0, 3.0, 4.0]), np.array([9.0, 9.0, 9.0])],
                    EPS)
    assert list(st["finals"]) == [0.1, 0.025] and st["finals"][0.025] == 3.0
    assert fig2_stats([0.1], [np.array([])], EPS)["finals"][0.1] != fig2_stats(
        [0.1], [np.array([])], EPS)["finals"][0.1]  # NaN for an empty run


def test_copy_divergence_compares_two_different_copies():
    net = CopiesResNet(8, 3, 1, 3, 4, "swish", 5.0)
    init_copies(net, torch.Generator().manual_seed(0))
    w = split(net.get_submodule("layer2.0.conv1").weight, 3)
    with torch.no_grad():
        w[0].fill_(1.0)
        w[1].fill_(3.0)  # |1 - 3| / (1 + 3) = 1/2 everywhere -> 2 * mean = 1
        w[2].fill_(1.0)
    assert copy_divergence(net, "layer2.0.conv1") == pytest.approx(1.0)
    assert copy_divergence(net, "layer2.0.conv1", 0, 2) == 0.0


def test_fig2_run_records_the_divergence_of_its_two_copies(tmp_path):
    """The run writes snapshots; the extraction step gives, bit for bit, the divergence the run
    used to compute inline (replayed here step by step with the same library calls)."""
    from itertools import islice

    from lesde_fixtures import geomnist_cache
    from traindyn.instab.data import minibatches
    from traindyn.instab.steps import fig2_divergence, load_data
    from traindyn.instab.train import NetSpec, build, loss_and_step, optimizer

    data = geomnist_cache(tmp_path / "g.npz", n_train=8, n_val=4)
    kw = dict(dataset="geomnist", n=2, base_lr=0.1, saves=4, seed=1,
              network=dict(depth=8, width=4, swish_beta=5.0), weight_decay=5e-4, batch=8,
              dtype="float32", device="cpu", deterministic=True)
    for ks in ([1, 3], [1, 1]):
        snaps = str(tmp_path / f"k{ks[0]}{ks[1]}.snapshots.safetensors")
        fig2_run(snaps, data, ks=ks, **kw)
        fig2_divergence(snaps, str(tmp_path / f"k{ks[0]}{ks[1]}.npz"), layer="layer2.0.conv1")
    d13, d11 = np.load(tmp_path / "k13.npz"), np.load(tmp_path / "k11.npz")
    assert d13["divergence"].shape == (4,) and np.all(d11["divergence"] == 0.0)
    assert d13["divergence"][-1] > 0 and d13["divergence"][-1] < 1e-3  # rounding, amplified
    # the inline computation: the watched layer after the first update and every n updates
    with torch.random.fork_rng():
        images = load_data("geomnist", data, None, False, torch.float32, torch.device("cpu"))
        model = build(NetSpec(8, 4, "swish", 5.0), images, [1, 3], 1, torch.float32, "cpu")
        opt = optimizer(model, [1, 3], 0.1 / 2, 0.0, 5e-4, False)
        inline, step, epoch = [], 0, 0
        while step < 8:
            for x, y in islice(minibatches(images, 8, 1, epoch), None):
                loss_and_step(model, opt, x, y)
                step += 1
                if step == 1:
                    floor = copy_divergence(model, "layer2.0.conv1")
                if step % 2 == 0:
                    inline.append(copy_divergence(model, "layer2.0.conv1"))
                if step == 8:
                    break
            epoch += 1
    assert d13["floor"] == floor and np.array_equal(d13["divergence"], inline)