"""Claims of LE-SDE Figure 4 (label-noise phase transition): every claim id passes on crafted
paper-like statistics and fails on a crafted bad case; missing data never pass."""

import math

import numpy as np
import pytest
from claim_cases import assert_all_pass, verdicts

from traindyn.claims import FAIL, INCONCLUSIVE, NA, PASS
from traindyn.lesde.figures.phase import phase_claims, phase_stats
from traindyn.lesde.ensemble import resample
from traindyn.lesde.noise import noise_name
from traindyn.stats import Estimate

PS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.8]
ACC = [1.0, 0.99, 0.97, 0.96, 0.82, 0.58, 0.36, 0.34, 0.32, 0.22]
LOSS = [0.01, 0.15, 0.29, 0.48, 0.75, 1.02, 1.10, 1.10, 1.11, 1.14]
R = [0.677, 0.72, 0.73, 0.73, 0.77, 0.83, 1.0, 1.01, 1.03, 1.01]
N = 500


def corruption(p, n=N, k=3):
    """Label counts (true class x training label) as the corruption rule makes them."""
    flipped = int(p * n)
    counts = np.diag([n - flipped] * k)
    for c in range(k):
        others = [j for j in range(k) if j != c]
        counts[c, others[0]] = flipped // 2
        counts[c, others[1]] = flipped - flipped // 2
    return counts.tolist()


def est(value, se):
    return Estimate(value, se, se, "bootstrap (test)")


def level(acc, loss, r):
    return dict(acc=est(acc, 0.005), loss=est(loss, 0.005), first_acc=est(1 / 3, 0.001),
                first_loss=est(1.0986, 0.001), rise=est(loss - 1.0986, 0.005),
                r_alpha=est(r, 0.01), r_beta=est(0.5, 0.02))


def good():
    return dict(levels={p: level(a, l, r) for p, a, l, r in zip(PS, ACC, LOSS, R)},
                labels={p: corruption(p) for p in PS}, runs={p: 1 for p in PS})


def claims(st, scale="paper"):
    return phase_claims(st, scale=scale, n_train=N)


def patch(key, p, value, se=0.005):
    def f(st):
        st["levels"][p][key] = est(value, se)
    return f


def every_level(key, value):
    def f(st):
        for p in st["levels"]:
            st["levels"][p][key] = est(value, 0.001)
    return f


def u4_wrong_split(p):
    def f(st):
        c = np.array(st["labels"][p])
        c[0, 1] += 1
        c[0, 2] -= 1  # same number flipped, not split half/half
        st["labels"][p] = c.tolist()
    return f


def u4_by_formula(p):
    def f(st):
        c = np.array(st["labels"][p])
        c[1, 1] -= 3
        c[1, 0] += 3  # three more corrupted examples of class 1 than int(p n)
        st["labels"][p] = c.tolist()
    return f


FAILS = [("U3a", every_level("first_acc", 0.40)), ("U3b", every_level("first_loss", 1.12))]
FAILS += [(f"U4[p={noise_name(p)}]", u4_by_formula(p) if p < 0.05 else u4_wrong_split(p))
          for p in PS]
FAILS += [("F4b[p=0.0]", patch("acc", 0.0, 0.95)), ("F4b[p=0.1]", patch("acc", 0.1, math.nan)),
          ("F4b[p=0.2]", patch("acc", 0.2, 0.89)), ("F4b[p=0.3]", patch("acc", 0.3, 0.85)),
          ("F4b[p=0.4]", patch("acc", 0.4, 0.93)), ("F4b[p=0.5]", patch("acc", 0.5, 0.44)),
          ("F4b[p=0.6]", patch("acc", 0.6, 0.46)), ("F4b[p=0.67]", patch("acc", 2 / 3, 0.26)),
          ("F4b[p=0.7]", patch("acc", 0.7, 0.5)), ("F4b[p=0.8]", patch("acc", 0.8, 0.31)),
          ("F4b-5b", patch("acc", 2 / 3, 0.40)),
          ("F4b-7", patch("acc", 0.7, 0.38)),  # p = 0.7 beats p = 0.67 by 0.04
          ("F4a-1", patch("loss", 0.0, 0.07)),
          ("F4a-2[p=0.1]", patch("loss", 0.1, 0.26)), ("F4a-2[p=0.2]", patch("loss", 0.2, 0.18)),
          ("F4a-2[p=0.3]", patch("loss", 0.3, 0.6)), ("F4a-2[p=0.4]", patch("loss", 0.4, 0.6)),
          ("F4a-2[p=0.5]", patch("loss", 0.5, math.inf)),
          ("F4a-3[p=0.6]", patch("rise", 0.6, 0.1)), ("F4a-3[p=0.67]", patch("rise", 2 / 3, -0.1)),
          ("F4a-3[p=0.7]", patch("rise", 0.7, 0.06)),
          ("F4a-4", patch("rise", 0.8, 0.0)),
          ("F4c-1", patch("r_alpha", 0.0, 0.75, 0.01)),
          *[(f"F4c-2[p={noise_name(p)}]", patch("r_alpha", p, 0.96, 0.01))
            for p in (0.1, 0.2, 0.3, 0.4, 0.5)],
          *[(f"F4c-3[p={noise_name(p)}]", patch("r_alpha", p, 0.85, 0.01))
            for p in (0.6, 2 / 3, 0.7, 0.8)],
          ("F4c-4", patch("r_alpha", 0.4, 0.99, 0.005)),  # crossing at 0.4: too early
          ("F4c-5", patch("r_alpha", 0.2, 0.80, 0.01))]  # 0.80 -> 0.73: a drop of 0.07


def test_good_statistics_pass_every_claim():
    assert_all_pass(claims(good()))


@pytest.mark.parametrize("cid, f", FAILS, ids=[c for c, _ in FAILS])
def test_claim_can_fail(cid, f):
    st = good()
    f(st)
    assert verdicts(claims(st))[cid] == FAIL


def test_every_claim_has_a_failing_case():
    assert set(verdicts(claims(good()))) == {c for c, _ in FAILS}


def test_uncertainty_decides_between_pass_inconclusive_and_fail():
    st = good()
    st["levels"][0.8]["r_alpha"] = est(0.947, 0.11)  # the t = 0 offset's spread at p = 0.8
    got = verdicts(claims(st))
    assert got["F4c-3[p=0.8]"] == INCONCLUSIVE
    st["levels"][0.8]["r_alpha"] = est(0.947, 0.02)  # five replicates would resolve it
    assert verdicts(claims(st))["F4c-3[p=0.8]"] == FAIL
    st["levels"][0.6]["r_alpha"] = est(0.96, 0.02)  # crossing may be 0.6 or 0.67: both allowed
    assert verdicts(claims(st))["F4c-4"] == PASS
    st["levels"][0.5]["r_alpha"] = est(0.96, 0.06)
    st["levels"][0.4]["r_alpha"] = est(0.93, 0.03)  # 0.4 could be the first: undecided
    assert verdicts(claims(st))["F4c-4"] == INCONCLUSIVE
    st = good()
    st["levels"][0.2]["r_alpha"] = est(0.725, 0.01)  # 0.73 -> 0.725 -> 0.73: within noise
    assert verdicts(claims(st))["F4c-5"] == PASS


def test_quick_scale_keeps_measured_values_and_uncertainty():
    st = good()
    got = {c.id: c for c in claims(st, "quick")}
    assert got["F4c-1"].verdict == NA and got["F4c-1"].measured == pytest.approx(0.677)
    assert got["F4c-1"].uncertainty == 0.01 and "make reference" in got["F4c-1"].reason
    assert got["F4b[p=0.4]"].verdict == NA and got["F4b[p=0.4]"].measured == pytest.approx(0.82)
    assert got["F4c-4"].verdict == NA
    assert got["F4b-7"].verdict == PASS and got["F4b-5b"].verdict == PASS
    tiny = verdicts(claims(good(), "tiny"))
    assert {v for c, v in tiny.items() if not c.startswith("U4")} == {NA}
    assert {v for c, v in tiny.items() if c.startswith("U4")} == {PASS}


def test_too_few_settings_are_not_applicable_never_pass():
    st = good()
    for key in ("levels", "labels", "runs"):
        st[key] = {p: v for p, v in st[key].items() if p in (0.0, 0.8)}
    got = verdicts(claims(st))
    assert got["F4c-4"] == NA and got["F4c-5"] == NA and got["F4c-3[p=0.8]"] == PASS
    assert not any(c.startswith("F4c-2") for c in got)
    one = {k: {0.0: v[0.0]} for k, v in good().items()}
    got = verdicts(claims(one))
    assert got["F4b-7"] == NA and got["F4c-4"] == NA and got["F4c-5"] == NA


def test_empty_or_nan_measurements_fail():
    st = good()
    st["levels"][0.1]["r_alpha"] = est(math.nan, 0.01)
    st["levels"][0.3]["acc"] = est(math.nan, 0.01)
    got = verdicts(claims(st))
    assert got["F4c-2[p=0.1]"] == FAIL and got["F4c-5"] == FAIL and got["F4b-7"] == FAIL


def test_u4_is_not_applicable_when_the_logs_miss_examples():
    st = good()
    c = np.array(st["labels"][0.8])
    c[2, 2] -= 1  # one example of class 2 never sampled
    st["labels"][0.8] = c.tolist()
    claim = {c.id: c for c in claims(st)}["U4[p=0.8]"]
    assert claim.verdict == NA and claim.measured is not None


def _summary(rng, acc_shift=0.0):
    t, m = 1500, 6
    labels = rng.integers(0, 3, size=(t, m)).astype(np.int8)
    grow = np.sqrt(np.arange(t))[:, None, None] * 0.05
    logits = (grow * (np.eye(3) - 1 / 3)[labels] + 0.05 * rng.normal(size=(t, m, 3)))
    base = dict(trial_labels=labels, trial_logits=logits.astype(np.float32),
                val_acc=np.stack([np.full(m, 1 / 3), 0.9 + acc_shift + 0.01 * rng.random(m)], 1),
                val_loss=np.stack([np.full(m, 1.1), np.full(m, 0.1)], 1),
                label_counts=np.array(corruption(0.0, 10)))
    return resample(base, np.arange(m))


def test_phase_stats_reads_summaries_with_bootstrap_and_replicates():
    rng = np.random.default_rng(0)
    one = phase_stats([0.0], [_summary(rng)], tail_n=1000)
    x = one["levels"][0.0]
    assert x["first_acc"].value == pytest.approx(1 / 3)
    assert x["first_loss"].value == pytest.approx(1.1)
    assert 0.9 < x["acc"].value < 0.91 and 0 < x["acc"].se < 0.01
    assert np.isfinite(x["r_alpha"].value) and "bootstrap" in x["r_alpha"].method
    assert one["labels"][0.0] == corruption(0.0, 10) and one["runs"][0.0] == 1
    reps = [_summary(rng, shift) for shift in (0.0, 0.02, 0.04)]
    three = phase_stats([0.8, 0.8, 0.8], reps, tail_n=1000)["levels"][0.8]["acc"]
    assert three.spread == pytest.approx(0.02, abs=0.005) and "replicate" in three.method
