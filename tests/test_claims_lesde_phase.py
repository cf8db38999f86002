"""Claims of LE-SDE Figure 4 (label-noise phase transition): every claim id passes on crafted
paper-like statistics and fails on a crafted bad case; missing data never pass."""

import math

import numpy as np
import pytest
from claim_cases import assert_all_pass, verdicts

from traindyn.claims import FAIL, NA, PASS
from traindyn.figures.lesde_phase import phase_claims, phase_stats
from traindyn.lesde.noise import noise_name

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


def good():
    return dict(acc=dict(zip(PS, ACC)), loss=dict(zip(PS, LOSS)),
                first_acc={p: 1 / 3 for p in PS}, first_loss={p: 1.0986 for p in PS},
                r_alpha=dict(zip(PS, R)), r_beta={p: 0.5 for p in PS},
                labels={p: corruption(p) for p in PS})


def claims(st, scale="paper"):
    return phase_claims(st, scale=scale, n_train=N)


def patch(key, p, value):
    def f(st):
        st[key][p] = value
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


FAILS = [("U3a", lambda st: st["first_acc"].update({p: 0.40 for p in PS})),
         ("U3b", lambda st: st["first_loss"].update({p: 1.12 for p in PS}))]
FAILS += [(f"U4[p={noise_name(p)}]", u4_by_formula(p) if p < 0.05 else u4_wrong_split(p))
          for p in PS]
FAILS += [("F4b[p=0.0]", patch("acc", 0.0, 0.96)), ("F4b[p=0.1]", patch("acc", 0.1, math.nan)),
          ("F4b[p=0.2]", patch("acc", 0.2, 0.89)), ("F4b[p=0.3]", patch("acc", 0.3, 0.85)),
          ("F4b[p=0.4]", patch("acc", 0.4, 0.93)), ("F4b[p=0.5]", patch("acc", 0.5, 0.44)),
          ("F4b[p=0.6]", patch("acc", 0.6, 0.46)), ("F4b[p=0.67]", patch("acc", 2 / 3, 0.26)),
          ("F4b[p=0.7]", patch("acc", 0.7, 0.5)), ("F4b[p=0.8]", patch("acc", 0.8, 0.31)),
          ("F4b-5b", patch("acc", 2 / 3, 0.39)),
          ("F4b-7", patch("acc", 0.7, 0.38)),  # p = 0.7 beats p = 0.67 by 0.04
          ("F4a-1", patch("loss", 0.0, 0.07)),
          ("F4a-2[p=0.1]", patch("loss", 0.1, 0.26)), ("F4a-2[p=0.2]", patch("loss", 0.2, 0.18)),
          ("F4a-2[p=0.3]", patch("loss", 0.3, 0.6)), ("F4a-2[p=0.4]", patch("loss", 0.4, 0.6)),
          ("F4a-2[p=0.5]", patch("loss", 0.5, math.inf)),
          ("F4a-3[p=0.6]", patch("loss", 0.6, 1.2)), ("F4a-3[p=0.67]", patch("loss", 2 / 3, 1.0)),
          ("F4a-3[p=0.7]", patch("loss", 0.7, 1.16)),
          ("F4a-4", patch("loss", 0.8, 1.105)),
          ("F4c-1", patch("r_alpha", 0.0, 0.75)),
          ("F4c-2", patch("r_alpha", 0.3, 0.96)),
          ("F4c-3", patch("r_alpha", 0.8, 0.95)),
          ("F4c-4", patch("r_alpha", 0.4, 0.98)),  # crossing at 0.4: too early
          ("F4c-5", patch("r_alpha", 0.2, 0.80))]  # 0.80 -> 0.73: one inversion of 0.07


def test_good_statistics_pass_every_claim():
    assert_all_pass(claims(good()))


@pytest.mark.parametrize("cid, f", FAILS, ids=[c for c, _ in FAILS])
def test_claim_can_fail(cid, f):
    st = good()
    f(st)
    assert verdicts(claims(st))[cid] == FAIL


def test_every_claim_has_a_failing_case():
    assert set(verdicts(claims(good()))) == {c for c, _ in FAILS}


def test_quick_scale_keeps_measured_values_and_notes_the_scale():
    st = good()
    st["r_alpha"][0.3] = 0.99
    got = {c.id: c for c in claims(st, "quick")}
    assert got["F4c-1"].verdict == NA and got["F4c-1"].measured == pytest.approx(0.677)
    assert got["F4b[p=0.4]"].verdict == NA and got["F4b[p=0.4]"].measured == pytest.approx(0.82)
    assert got["F4c-2"].verdict == FAIL and "paper scale only" in got["F4c-2"].scale_note
    assert got["F4b-7"].verdict == PASS
    tiny = verdicts(claims(good(), "tiny"))
    assert {v for c, v in tiny.items() if not c.startswith("U4")} == {NA}
    assert {v for c, v in tiny.items() if c.startswith("U4")} == {PASS}


def test_too_few_settings_are_not_applicable_never_pass():
    st = good()
    for key in ("acc", "loss", "first_acc", "first_loss", "r_alpha", "r_beta", "labels"):
        st[key] = {p: v for p, v in st[key].items() if p in (0.0, 0.8)}
    got = verdicts(claims(st))
    assert got["F4c-2"] == NA and got["F4c-5"] == NA and got["F4c-3"] == PASS
    one = {k: {0.0: v[0.0]} for k, v in good().items()}
    got = verdicts(claims(one))
    assert got["F4b-7"] == NA and got["F4c-2"] == NA and got["F4c-4"] == NA


def test_empty_or_nan_measurements_fail():
    st = good()
    st["r_alpha"][0.1] = math.nan
    st["acc"][0.3] = math.nan
    got = verdicts(claims(st))
    assert got["F4c-2"] == FAIL and got["F4c-5"] == FAIL and got["F4b-7"] == FAIL


def test_u4_is_not_applicable_when_the_logs_miss_examples():
    st = good()
    c = np.array(st["labels"][0.8])
    c[2, 2] -= 1  # one example of class 2 never sampled
    st["labels"][0.8] = c.tolist()
    claim = {c.id: c for c in claims(st)}["U4[p=0.8]"]
    assert claim.verdict == NA and claim.measured is not None


def test_phase_stats_reads_summaries():
    t = np.arange(2000.0)
    means = np.stack([np.eye(3) * (1 + 0.01 * np.sqrt(x)) + 0.1 for x in t])
    s = dict(val_acc=np.array([[0.3, 0.9], [0.36, 1.0]]), val_loss=np.array([[1.1, 0.1]] * 2),
             means_y=means, label_counts=np.array(corruption(0.0, 10)))
    st = phase_stats([0.0], [s], tail_n=1000)
    assert st["acc"][0.0] == pytest.approx(0.95) and st["first_acc"][0.0] == pytest.approx(0.33)
    assert st["first_loss"][0.0] == pytest.approx(1.1) and np.isfinite(st["r_alpha"][0.0])
    assert st["labels"][0.0] == corruption(0.0, 10)
