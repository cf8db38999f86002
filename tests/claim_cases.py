"""Helpers for the claim tests: every claim id gets a crafted input that must PASS (the good
statistics) and one that must FAIL (a patch of them)."""

from __future__ import annotations

import copy
from collections.abc import Callable

from traindyn.claims import FAIL, PASS


def verdicts(claims) -> dict[str, str]:
    return {c.id: c.verdict for c in claims}


def assert_all_pass(claims) -> None:
    bad = {c.id: (c.verdict, c.measured, c.reason) for c in claims if c.verdict != PASS}
    assert not bad, bad


def assert_fails(build: Callable, good: dict, cid: str, patch: Callable[[dict], None]) -> None:
    st = copy.deepcopy(good)
    patch(st)
    got = verdicts(build(st))
    assert got[cid] == FAIL, (cid, got[cid])


def set_(key, value):
    def patch(st):
        st[key] = value
    return patch


def nested(key, sub, value):
    def patch(st):
        st[key][sub] = value
    return patch
