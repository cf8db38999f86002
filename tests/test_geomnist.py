import hashlib

import numpy as np
import pytest

from traindyn.data import geomnist


def _digest(arrays):
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(arrays[k].tobytes())
    return h.hexdigest()


def test_same_seed_identical_bytes_different_seed_differs():
    a = geomnist.generate(20, 5, seed=3)
    b = geomnist.generate(20, 5, seed=3)
    c = geomnist.generate(20, 5, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_shapes_order_and_balance():
    d = geomnist.generate(30, 10, seed=0)
    assert d["x_train"].shape == (90, 1, 32, 32) and d["x_train"].dtype == np.float32
    assert d["x_val"].shape == (30, 1, 32, 32)
    # class-ordered: training sample i has true class i // n_train
    np.testing.assert_array_equal(d["y_train"], np.arange(90) // 30)
    assert np.bincount(d["y_val"]).tolist() == [10, 10, 10]


def test_images_are_blurred_shapes_of_distinct_classes():
    d = geomnist.generate(50, 0, seed=1)
    x, y = d["x_train"][:, 0], d["y_train"]
    assert x.min() > -0.1 and x.max() < 1.1
    # blur leaves no hard 0/1 image; every image has a shape in it
    assert np.all(x.reshape(len(x), -1).max(axis=1) > 0.5)
    area = x.reshape(len(x), -1).sum(axis=1)
    means = [area[y == c].mean() for c in range(3)]
    # ellipse (r in [5,7] x 2r) is the largest shape, the 8x16 rectangle the smallest
    assert means[2] > means[0] > means[1]


def test_rotation_sweeps_the_class():
    tri = geomnist.triangle(32, 0.0)
    assert tri.sum() > 100
    img0 = geomnist.generate_class(1, 3, np.random.default_rng(0), image_size=32,
                                   max_angle_deg=90, blur_sigma=(1.0, 1.0))
    # three rectangles at 0, 45 and 90 degrees are not all the same picture
    assert not np.allclose(img0[0], img0[1]) and not np.allclose(img0[1], img0[2])


def test_class_count_limit():
    with pytest.raises(ValueError, match="3 classes"):
        geomnist.generate(2, 2, seed=0, n_classes=4)


def test_build_writes_provenance(tmp_path):
    out = tmp_path / "g.npz"
    geomnist.build_geomnist(str(out), n_train=4, n_val=2, seed=0, image_size=32,
                            max_angle_deg=176, blur_sigma=[0.9, 1.1])
    data = geomnist.load_geomnist(str(out))
    assert "config_hash" in str(data["provenance"])
    assert data["class_names"].tolist() == ["triangle", "rectangle", "ellipse"]


def test_missing_cache_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="snakemake"):
        geomnist.load_geomnist(str(tmp_path / "nope.npz"))
