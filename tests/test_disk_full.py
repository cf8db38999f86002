"""A write that fails on a full disk says so and names the file (torch.save alone says
"unexpected pos 704 vs 598"), and leaves no partial file behind."""

from __future__ import annotations

import errno
import shutil
from collections import namedtuple

import pytest
import torch

from traindyn import atomic
from traindyn.atomic import atomic_path

Usage = namedtuple("Usage", "total used free")


# What torch.save raised on a full file system (written to /dev/full, torch 2.14).
TORCH_FULL = "[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598"


def test_a_checkpoint_on_a_full_disk_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: Usage(10**9, 10**9, 2**20))
    target = tmp_path / "work" / "checkpoint.pt"
    with pytest.raises(OSError) as err:
        with atomic_path(target) as tmp:
            torch.save({"w": torch.zeros(1000)}, tmp)
            raise RuntimeError(TORCH_FULL)
    assert err.value.errno == errno.ENOSPC
    assert f"cannot write {target}: no space left" in str(err.value) and "1 MiB free" in str(err.value)
    assert list(target.parent.iterdir()) == []  # no temporary file left


def test_enospc_is_named_whatever_the_free_space(tmp_path):
    target = tmp_path / "out.parquet"
    with pytest.raises(OSError, match=f"cannot write {target}: no space left"):
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "Error writing bytes to file")  # as pyarrow says it


def test_other_failures_pass_through_unchanged(tmp_path):
    if shutil.disk_usage(tmp_path).free < atomic.LOW_SPACE:
        pytest.skip("this disk is nearly full")
    with pytest.raises(RuntimeError, match="^boom$"):
        with atomic_path(tmp_path / "x.pt"):
            raise RuntimeError("boom")
